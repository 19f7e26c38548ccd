// Server upload benchmark: streams SHAREMAP_BENCH_BYTES (default 2 GiB) over loopback to
// POST /api/images of a real server (apps/server/dist/main.js in a child process) and compares
// the throughput with a plain fsynced file write of the same bytes on the same disk. Samples
// the server's RSS every 50 ms: growth must stay flat (the upload is streamed, never buffered).
// Last stdout line: one JSON object (scripts/bench.mjs).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, openSync, writeSync, fsyncSync, closeSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startServerChild } from '../apps/server/test/child-server.mjs';

const TOTAL = Number(process.env.SHAREMAP_BENCH_BYTES ?? 2 * 1024 ** 3);
const CHUNK = 1 << 20;
const block = Buffer.alloc(CHUNK);
for (let i = 0; i < CHUNK; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);

function* chunks() {
  for (let sent = 0; sent < TOTAL; sent += CHUNK) {
    const b = Buffer.from(block.subarray(0, Math.min(CHUNK, TOTAL - sent)));
    b.writeUInt32LE(sent / CHUNK, 0); // every chunk differs a little
    yield b;
  }
}

function plainCopy(dir) {
  const file = path.join(dir, 'copy.bin');
  const t0 = process.hrtime.bigint();
  const h = createHash('sha256');
  const fd = openSync(file, 'w');
  for (const c of chunks()) {
    h.update(c);
    writeSync(fd, c);
  }
  fsyncSync(fd);
  closeSync(fd);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(file);
  return s;
}

function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const startServer = (dataDir) => startServerChild(dataDir, { SHAREMAP_MAX_UPLOAD_BYTES: String(TOTAL + 1) });

function upload(url) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/images?name=bench.img`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': TOTAL },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    const it = chunks();
    const pump = () => {
      for (;;) {
        const n = it.next();
        if (n.done) return req.end();
        if (!req.write(n.value)) return req.once('drain', pump);
      }
    };
    pump();
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'sharemap-bench-'));
try {
  const copySeconds = plainCopy(dir);
  const { proc, url } = await startServer(path.join(dir, 'data'));
  const rssStart = rssKiB(proc.pid);
  let rssMax = rssStart;
  const samples = setInterval(() => {
    const r = rssKiB(proc.pid);
    if (r !== null) rssMax = Math.max(rssMax, r);
  }, 50);
  const t0 = process.hrtime.bigint();
  const res = await upload(url);
  const uploadSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(samples);
  const rssEnd = rssKiB(proc.pid);
  proc.kill('SIGTERM');
  const mib = TOTAL / 1024 ** 2;
  const result = {
    bytes: TOTAL,
    status: res.status,
    uploadSeconds: +uploadSeconds.toFixed(3),
    uploadMiBps: +(mib / uploadSeconds).toFixed(1),
    plainCopySeconds: +copySeconds.toFixed(3),
    plainCopyMiBps: +(mib / copySeconds).toFixed(1),
    throughputRatio: +(copySeconds / uploadSeconds).toFixed(3),
    rssStartMiB: +(rssStart / 1024).toFixed(1),
    rssMaxMiB: +(rssMax / 1024).toFixed(1),
    rssEndMiB: +(rssEnd / 1024).toFixed(1),
    rssGrowthMiB: +((rssMax - rssStart) / 1024).toFixed(1),
  };
  console.log(JSON.stringify(result));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
