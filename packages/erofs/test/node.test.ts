/** The Node entry's file source: what it refuses to open as an image. */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErofsError } from '../src/errors.js';
import { nodeFileSource, openImageFile } from '../src/node.js';

const dir = mkdtempSync(join(tmpdir(), 'sharemap-erofs-node-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refusal(path: string): Promise<ErofsError> {
  const e: unknown = await nodeFileSource(path).then(
    (src) => src.close().then(() => undefined),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ErofsError);
  return e as ErofsError;
}

describe('nodeFileSource refuses what is not a regular file', () => {
  it('a FIFO: EINVAL naming the path, without waiting for a writer', async () => {
    const fifo = join(dir, 'image.fifo');
    execFileSync('mkfifo', [fifo]);
    // The test holds the FIFO open read-write (Linux opens a FIFO so without waiting): were the
    // source to open it as before, its open() would return and a size-0 source would be the
    // failure, instead of an open() that never returns and a test run that hangs.
    const held = openSync(fifo, constants.O_RDWR);
    try {
      const e = await refusal(fifo);
      expect(e.code).toBe('EINVAL');
      expect(e.path).toBe(fifo);
      expect(e.message).toBe(`EINVAL: not a regular file (a FIFO) @ path ${JSON.stringify(fifo)}`);
      // through the one-call helper the CLI and the server's scan worker use
      await expect(openImageFile(fifo)).rejects.toMatchObject({ code: 'EINVAL', path: fifo });
    } finally {
      closeSync(held);
    }
  });

  it('a directory and a character device', async () => {
    expect((await refusal(dir)).message).toBe(
      `EINVAL: not a regular file (a directory) @ path ${JSON.stringify(dir)}`,
    );
    expect((await refusal('/dev/null')).message).toBe(
      'EINVAL: not a regular file (a character device) @ path "/dev/null"',
    );
  });

  it('a missing file is EIO naming the path', async () => {
    const e = await refusal(join(dir, 'missing.img'));
    expect(e.code).toBe('EIO');
    expect(e.message).toMatch(/^EIO: cannot open .*missing\.img: ENOENT/);
  });
});
