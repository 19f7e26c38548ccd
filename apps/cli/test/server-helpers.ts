/** A real sharemap server on a temp data folder, and a port nobody listens on, for CLI tests. */
import { createServer } from 'node:net';
import { defaultConfig, startServer, type RunningServer } from '@sharemap/server';
import { tmp } from './helpers.js';

export async function serve(requireToken: boolean): Promise<{ server: RunningServer; data: string }> {
  const data = tmp();
  const server = await startServer({
    ...defaultConfig(),
    port: 0,
    host: '127.0.0.1',
    dataDir: data,
    demoDir: null,
    logLevel: 'silent',
    requireToken,
  });
  return { server, data };
}

/** A port nobody listens on: bind port 0, note it, close. */
export async function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
