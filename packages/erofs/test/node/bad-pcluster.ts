/**
 * The damaged image the tests of a read error under digest threads share (digest-pool,
 * digest-later, the CLI's scan-threads and thread-ends): edge.lz4.img with the first pcluster
 * of /text.txt (larger than a block) overwritten.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openImageFile } from '../../src/node.js';
import { TESTDATA } from '../repository-images.js';

/** edge.lz4.img with the first pcluster of /text.txt made corrupt, written into `dir`; its path. */
export async function corruptPclusterImage(dir: string): Promise<string> {
  const src = join(TESTDATA, 'erofs/edge.lz4.img');
  const opened = await openImageFile(src);
  let at: number;
  try {
    const layout = await opened.image.layoutOf('/text.txt');
    const ext = layout.extents.find((x) => x.physicalAddr !== null && x.kind !== 'inline')!;
    at = ext.physicalAddr!;
  } finally {
    await opened.close();
  }
  const bad = join(dir, 'bad-pcluster.img');
  const bytes = readFileSync(src);
  // An LZ4 sequence whose match offset points before the start of the output.
  bytes.fill(0xff, at, at + 64);
  writeFileSync(bad, bytes);
  return bad;
}
