/**
 * One server per data folder, with a lock that dies with its process: a lock file left by a
 * crashed server whose pid is alive again (a container restarted as pid 1, here: this very
 * process's pid) does not block a start, while a second live server on the folder is refused.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../src/context.js';
import {
  api,
  ensureBuilt,
  kill9,
  startChildServer,
  startTestServer,
  tempDir,
  type Child,
} from './helpers.js';

const startChild = (dataDir: string): Promise<Child> => {
  ensureBuilt();
  return startChildServer(dataDir);
};

describe('data folder lock', () => {
  it('a stale lock file holding a live pid (this process, as pid 1 after a container restart) does not block a start', async () => {
    const dataDir = tempDir();
    writeFileSync(path.join(dataDir, LOCK_FILE), String(process.pid));
    const s = await startTestServer({ dataDir });
    try {
      const h = await api(s.url, 'GET', '/api/health');
      expect(h.status).toBe(200);
      expect(h.body.status).toBe('ok');
    } finally {
      await s.stop();
    }
  }, 60_000);

  it('a second live server on the same folder is refused, in another process or in this one; the lock dies with kill -9', async () => {
    const dataDir = tempDir();
    const first = await startChild(dataDir);
    try {
      expect((await api(first.url, 'GET', '/api/health')).status).toBe(200);
      // In this process.
      await expect(startTestServer({ dataDir })).rejects.toThrow(
        /in use by another sharemap server .*server\.lock is locked by a running process/,
      );
      // In a third process: exits non-zero with one line naming the folder.
      const refused = await startChild(dataDir).then(
        async (c) => {
          await kill9(c);
          return 'started';
        },
        (e: Error) => e.message,
      );
      expect(refused).toMatch(/server exited with [1-9]/);
      expect(refused).toContain(`the data folder ${dataDir} is in use by another sharemap server`);
      // The first server still works.
      expect((await api(first.url, 'GET', '/api/health')).status).toBe(200);
    } finally {
      await kill9(first);
    }
    // kill -9 leaves the lock file behind, but not the lock.
    const again = await startTestServer({ dataDir });
    try {
      expect((await api(again.url, 'GET', '/api/health')).status).toBe(200);
    } finally {
      await again.stop();
    }
  }, 120_000);
});
