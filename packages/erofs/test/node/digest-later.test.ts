/**
 * A hashed scan through digest threads into a sink that takes a record's bytes
 * (RecordBytesSink, the CLI's NDJSON and JSON writers): the scan encodes every record as the
 * walk reaches it, a file whose digest is outstanding with a placeholder it overwrites once
 * the digest has arrived, and gives the sink the bytes in path order. The output is byte for
 * byte the in-thread scan's NDJSON on every image of testdata, also when few digests may be
 * outstanding, when the header is given mid-walk (records then stream out while digests are
 * outstanding), and when files are taken back; a file the reader cannot read fails the scan
 * with the in-thread scan's error, after exactly the records the scan without it writes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ErofsError } from '../../src/errors.js';
import { encodeRecord, recordBound } from '../../src/manifest-encode.js';
import {
  MAX_HELD_BYTES,
  manifestToNdjson,
  scanManifestTo,
  type ContentDigester,
  type HeaderLaterSink,
  type RecordBytesSink,
  type RecordFields,
} from '../../src/manifest.js';
import type { ManifestHeader } from '../../src/manifest-types.js';
import { DigestPool, digestWorkerScript, type DigestWorkerData } from '../../src/node/digest-pool.js';
import { nodeSha256, openImageFile, scanImageFile } from '../../src/node.js';
import { repositoryImages } from '../repository-images.js';
import { corruptPclusterImage } from './bad-pcluster.js';
import { limited } from './limited-digester.js';

const tmp = mkdtempSync(join(tmpdir(), 'sharemap-digest-later-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * An NDJSON writer as the CLI's: records held until the header. With `bytes` it is a
 * RecordBytesSink (the scan encodes records whose digests are outstanding itself), without it
 * a plain HeaderLaterSink (the scan holds those records). After `fullAfter` bytes it reports
 * more than MAX_HELD_BYTES held, so the scan counts the paths and gives the header mid-walk.
 */
class Writer implements HeaderLaterSink {
  out: Buffer[] = [];
  private held: Buffer[] | null = null;
  private heldLength = 0;
  /** Calls of copyBytes (the scan's own encoding was used). */
  copies = 0;
  constructor(private readonly fullAfter = Infinity) {}
  get heldBytes(): number {
    return this.held === null ? 0 : this.heldLength > this.fullAfter ? MAX_HELD_BYTES + 1 : this.heldLength;
  }
  holdUntilHeader(): void {
    this.held = [];
  }
  header(h: ManifestHeader): void {
    this.out.push(Buffer.from(JSON.stringify(h) + '\n'));
    if (this.held) this.out.push(...this.held);
    this.held = null;
  }
  protected put(b: Buffer): void {
    if (this.held) {
      this.held.push(b);
      this.heldLength += b.length;
    } else this.out.push(b);
  }
  file(f: RecordFields): void {
    const b = Buffer.alloc(recordBound(f) + 1);
    const n = encodeRecord(f, b, 0);
    b[n] = 0x0a;
    this.put(b.subarray(0, n + 1));
  }
  text(): string {
    return Buffer.concat(this.out).toString();
  }
}

class BytesWriter extends Writer implements RecordBytesSink {
  recordBound(f: RecordFields): number {
    return recordBound(f) + 1;
  }
  recordBytes(f: RecordFields, out: Uint8Array, pos: number): number {
    pos = encodeRecord(f, out, pos);
    out[pos++] = 0x0a;
    return pos;
  }
  copyBytes(b: Uint8Array): void {
    this.copies++;
    // Copied: the scan writes its chunk again.
    this.put(Buffer.from(b));
  }
}

async function scanInto(
  path: string,
  devices: string[],
  digester: ContentDigester,
  sink: Writer,
): Promise<void> {
  const opened = await openImageFile(path, { devices });
  try {
    await scanManifestTo(
      opened.image,
      { imageName: basename(path), imageSize: opened.size, hash: true, hasher: nodeSha256, digester },
      sink,
    );
  } finally {
    await opened.close();
  }
}

async function inThreadNdjson(path: string, devices: string[]): Promise<string> {
  return [...manifestToNdjson(await scanImageFile(path, { devices, hash: true }))].join('');
}

function poolOf(
  path: string,
  devices: string[],
  threads: number,
  script = digestWorkerScript()!,
): DigestPool {
  const data: DigestWorkerData = { path, devices, limits: undefined };
  return new DigestPool(script, data, threads);
}

describe('scan --hash into a RecordBytesSink', () => {
  const images = repositoryImages();

  it.each(images.map((i) => [i.name, i] as const))(
    '%s: the in-thread NDJSON (held to the end, header mid-walk; 4096, 1 and 3 digests outstanding; files taken back)',
    async (_name, { path, devices }) => {
      const want = await inThreadNdjson(path, devices);
      const pool = poolOf(path, devices, 2);
      try {
        for (const [digester, fullAfter] of [
          [pool, Infinity],
          [limited(pool, 4096), Infinity],
          [limited(pool, 1), Infinity],
          [limited(pool, 3), 0],
          [limited(pool, 2, true), 0],
          [limited(pool, 1), 300],
        ] as const) {
          const sink = new BytesWriter(fullAfter);
          await scanInto(path, devices, digester, sink);
          expect(sink.text()).toBe(want);
        }
      } finally {
        await pool.close();
      }
    },
    120_000,
  );

  it('encodes records itself while digests are outstanding (the sink gets bytes, not fields)', async () => {
    const { path, devices } = images.find((i) => i.name === 'erofs/app.fp.lz4hc.img')!;
    const pool = poolOf(path, devices, 1);
    try {
      const sink = new BytesWriter();
      await scanInto(path, devices, limited(pool, 4096), sink);
      expect(sink.copies).toBeGreaterThan(0);
      expect(sink.text()).toBe(await inThreadNdjson(path, devices));
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('a corrupt pcluster: the in-thread error, after the same records as the scan that holds them', async () => {
    const bad = await corruptPclusterImage(tmp);
    const expected = await scanImageFile(bad, { hash: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(expected).toBeInstanceOf(ErofsError);
    // Header given at once (fullAfter 0): records stream out, and those before the file stop there.
    for (const fullAfter of [Infinity, 0]) {
      const pool = poolOf(bad, [], 1);
      try {
        const outputs: string[] = [];
        for (const sink of [new Writer(fullAfter), new BytesWriter(fullAfter)]) {
          const err = await scanInto(bad, [], limited(pool, 4), sink).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(ErofsError);
          expect((err as ErofsError).message).toBe((expected as ErofsError).message);
          expect((err as ErofsError).path).toBe('/text.txt');
          outputs.push(sink.text());
        }
        expect(outputs[1]).toBe(outputs[0]);
        if (fullAfter === 0) expect(outputs[1]).toContain('"path":"/"');
      } finally {
        await pool.close();
      }
    }
  }, 60_000);

  it("a thread that never starts a file: the scan's own thread hashes every file, the same NDJSON", async () => {
    const script = join(tmp, 'silent-worker.mjs');
    writeFileSync(
      script,
      // Told to end (the pool's DigestEndMessage), it ends, as every thread of a pool does.
      `import { parentPort } from 'node:worker_threads';\nparentPort.on('message', (m) => { if (m.end) parentPort.close(); });\n`,
    );
    for (const name of ['erofs/app.fp.lz4hc.img', 'oci/rootfs.lz4hc.img']) {
      const { path, devices } = images.find((i) => i.name === name)!;
      const pool = poolOf(path, devices, 1, pathToFileURL(script));
      try {
        const sink = new BytesWriter(0);
        await scanInto(path, devices, limited(pool, 2, true), sink);
        expect(sink.text()).toBe(await inThreadNdjson(path, devices));
      } finally {
        await pool.close();
      }
    }
  }, 60_000);
});
