/**
 * SHAREMAP_LZ4_DECODER on the server (docs/reader.md#lz4-decoders, docs/server.md): read once
 * when the server starts (loadConfig), a bad value stops it from starting with one line naming
 * the variable, and every scan worker thread starts with the configured decoder.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import type { ScanResult, ScanTask } from '../src/scan/tasks.js';
import { BlobStore } from '../src/storage/blobs.js';
import { ensureBuilt, erofs, serverDir, startTestServer, tempDir } from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('SHAREMAP_LZ4_DECODER', () => {
  it('loadConfig: wasm by default, js or wasm from the environment, anything else refused by name', () => {
    expect(loadConfig({}, []).lz4Decoder).toBe('wasm');
    expect(loadConfig({ SHAREMAP_LZ4_DECODER: '' }, []).lz4Decoder).toBe('wasm');
    expect(loadConfig({ SHAREMAP_LZ4_DECODER: 'js' }, []).lz4Decoder).toBe('js');
    expect(loadConfig({ SHAREMAP_LZ4_DECODER: 'wasm' }, []).lz4Decoder).toBe('wasm');
    expect(() => loadConfig({ SHAREMAP_LZ4_DECODER: 'fast' }, [])).toThrow(
      new ConfigError('SHAREMAP_LZ4_DECODER must be "js" or "wasm", not "fast"'),
    );
  });

  it('the built server refuses to start with a bad value: exit 2, one line naming the variable', () => {
    ensureBuilt();
    const data = tempDir('sharemap-lz4-env-');
    dirs.push(data);
    const r = spawnSync(
      process.execPath,
      [path.join(serverDir, 'dist/main.js'), '--port', '0', '--host', '127.0.0.1', '--no-demo'],
      {
        env: { PATH: process.env.PATH ?? '', SHAREMAP_DATA: data, SHAREMAP_LZ4_DECODER: 'fast' },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('sharemap server: SHAREMAP_LZ4_DECODER must be "js" or "wasm", not "fast"\n');
  }, 120_000);

  it.each(['js', 'wasm'] as const)(
    'lz4Decoder %s: the scan workers decode with it (a real scan of an lz4hc image)',
    async (kind) => {
      const s = await startTestServer({ config: { lz4Decoder: kind } });
      try {
        const bytes = readFileSync(erofs('app.fp.lz4hc.img'));
        const blob = await new BlobStore(s.dataDir).put(bytes);
        const task: ScanTask = {
          kind: 'scan',
          dataDir: s.dataDir,
          image: { sha256: blob.sha256, name: 'app.fp.lz4hc.img', size: bytes.length },
          devices: [],
          maxFiles: 1_000_000,
          timeoutMs: 600_000,
        };
        // twice: a fresh worker, then the kept one (scan workers are reused)
        for (let i = 0; i < 2; i++) {
          const r = await s.ctx.scans.run<ScanResult>(task, { timeoutMs: 600_000 });
          expect(r.lz4Decoder).toBe(kind);
          expect(r.header.hashed).toBe(true);
        }
      } finally {
        await s.stop();
      }
    },
    180_000,
  );
});
