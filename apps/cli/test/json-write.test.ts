/**
 * `--json` to stdout fills the pieces the stream has written again (write.ts writePieces with a
 * PiecePool; docs/benchmarks.md#analyze-post-the-report-after-the-analysis-2026-12-07): the bytes
 * written are the old encoder's (JSON.stringify of the same value) for a report of several
 * manifests with paths JSON escapes, UTF-8 ones and a lone surrogate, a piece is filled again
 * only once the stream has let go of it (`writableLength` 0 after the write), and a stream that
 * still holds its chunks (a slow pipe) gets a fresh buffer for every piece.
 */
import { describe, expect, it } from 'vitest';
import { manifestToNdjson, parseManifestBytes, StringTable, type Manifest } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { jsonBytes, PiecePool } from '@sharemap/report-wire';
import { attachedGroupColumns, attachedPathStore } from '@sharemap/sharing';
import { runAnalysis } from '../src/analysis.js';
import { evaluateGate } from '../src/gate.js';
import { resultJson, resultJsonChunks, type CliResult } from '../src/output/render.js';
import { writePieces } from '../src/write.js';
import { fx } from './helpers.js';
import { LONE_SURROGATE_PATH, ODD_PATHS, withPaths } from './odd-paths.js';

/** The odd paths and the lone surrogate (NDJSON only). */
const ODD = [...ODD_PATHS, LONE_SURROGATE_PATH];

/** A stream that copies what it is given (the bytes at the time of the write), and says it holds `held` bytes after. */
class Recorder {
  chunks: Buffer[] = [];
  buffers = new Set<ArrayBufferLike>();
  constructor(readonly writableLength: number) {}
  write(chunk: string | Uint8Array): boolean {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    this.chunks.push(b);
    if (typeof chunk !== 'string') this.buffers.add(chunk.buffer);
    return true;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** The CLI's result for two manifests read as `analyze` reads them (paths as bytes, groups as columns). */
async function result(): Promise<CliResult> {
  const a = withPaths(await scanImageFile(fx('base-v1.fp.img'), { hash: true }), ODD);
  const b = withPaths(await scanImageFile(fx('base-v2.fp.img'), { hash: true }), [
    ODD[0]!,
    ODD[3]!,
    LONE_SURROGATE_PATH,
  ]);
  const strings = new StringTable();
  const read = (m: Manifest) =>
    parseManifestBytes(Buffer.from([...manifestToNdjson(m)].join('')), {
      strings,
      columnar: true,
      pathBytes: true,
    });
  const { report } = await runAnalysis({
    manifests: [read(a), read(b)],
    mounts: [],
    mapping: {},
    publishers: {},
    createdAt: '2026-12-07T00:00:00.000Z',
  });
  for (const img of report.images) expect(attachedPathStore(report.paths, img.id)).not.toBeNull();
  expect(attachedGroupColumns(report)).not.toBeNull();
  return { report, gate: evaluateGate(report, {}, null), delta: null };
}

const PIECE = 1024;

describe('--json pieces filled again once written', () => {
  it('writes the old encoder bytes, reusing pieces a stream has let go of and never one it holds', async () => {
    const r = await result();
    // Small pieces, so that the report is many of them (each longer than one shared inode).
    const free = new Recorder(0);
    const pool = new PiecePool(PIECE, 4);
    await writePieces(free, jsonBytes(r.report, PIECE, pool), (p) => pool.give(p));
    const held = new Recorder(PIECE);
    const heldPool = new PiecePool(PIECE, 4);
    await writePieces(held, jsonBytes(r.report, PIECE, heldPool), (p) => heldPool.give(p));
    const plain = JSON.stringify(r.report);
    expect(free.text()).toBe(plain);
    expect(held.text()).toBe(plain);
    expect(free.chunks.length).toBeGreaterThan(10);
    // Given back: a few buffers (as many as pieces wait at once) for all of them; held: one per piece.
    expect(free.buffers.size).toBeLessThan(free.chunks.length / 4);
    expect(held.buffers.size).toBe(held.chunks.length);
    // The whole `--json` output (the CLI's pieces and pool) is what JSON.stringify wrote.
    const cli = new Recorder(0);
    const cliPool = new PiecePool();
    const r2 = await result();
    await writePieces(cli, resultJsonChunks(r2, cliPool), (p) => cliPool.give(p));
    // (resultJson: JSON.stringify of the same value, its groups read as objects.)
    expect(cli.text()).toBe(resultJson(await result()));
  });
});
