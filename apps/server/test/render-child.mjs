// A render of a stored report in its own process (run under a small --max-old-space-size by
// render-memory.test.ts): `parts` is the server's render (dist/scan/render.js: the stored parts,
// streamed output); `whole` is the render as it was made before, kept here to show that it does
// not fit under the same heap limit (the report JSON parsed whole, the CSV built as one string).
//
// `html` is the server's HTML render (the page streamed from the parts' blobs); `html-whole` is
// the HTML render as it was made before (both parts read whole, the page built as one string).
//
//   node render-child.mjs parts <dataDir> <summaryBlob> <filesBlob> <outFile>
//   node render-child.mjs whole <dataDir> <reportBlob> <outFile>
//   node render-child.mjs html|html-whole <dataDir> <summaryBlob> <filesBlob> <templateFile> <outFile>
import { createWriteStream, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { fillStaticTemplate } from '@sharemap/report-wire';
import { reportToCsv } from '@sharemap/sharing';
import { renderToFile, reportHtmlPieces } from '../dist/scan/render.js';
import { BlobStore } from '../dist/storage/blobs.js';

const [mode, dataDir, ...rest] = process.argv.slice(2);
if (mode === 'parts') {
  const [summaryBlob, filesBlob, outFile] = rest;
  await renderToFile({
    kind: 'render',
    dataDir,
    summaryBlob,
    filesBlob,
    format: 'csv',
    url: '/r/x',
    tmpFile: path.join(dataDir, 'tmp', 'child.render'),
    outFile,
  });
} else if (mode === 'whole') {
  const [reportBlob, outFile] = rest;
  const report = JSON.parse(await new BlobStore(dataDir).readGunzip(reportBlob));
  await writeFile(outFile, gzipSync(reportToCsv(report), { level: 6 }));
} else if (mode === 'html' || mode === 'html-whole') {
  const [summaryBlob, filesBlob, templateFile, outFile] = rest;
  const store = new BlobStore(dataDir);
  const template = readFileSync(templateFile, 'utf8');
  if (mode === 'html')
    await pipeline(
      Readable.from(reportHtmlPieces(store, template, { summaryBlob, filesBlob }, 'big')),
      createWriteStream(outFile),
    );
  else {
    const parts = {
      summaryGzip: readFileSync(store.path(summaryBlob)),
      filesGzip: readFileSync(store.path(filesBlob)),
    };
    await writeFile(outFile, fillStaticTemplate(template, parts, 'big'));
  }
} else {
  process.stderr.write(`render-child: unknown mode ${mode}\n`);
  process.exit(2);
}
