/** A large synthetic manifest for the tests of the manifest threads (manifest-threads, thread-ends). */
import { writeFileSync } from 'node:fs';
import { bigTreeHeader } from '../../../packages/sharing/test/synthetic-manifest.mjs';

/** An NDJSON manifest of `files` regular files (directories of 1,000), `version` changing every 10th. */
export function bigManifest(path: string, files: number, version: number): void {
  const dirs = Math.ceil(files / 1000);
  const header = bigTreeHeader({
    name: `big-${version}.erofs`,
    files,
    uuid: `00000000-0000-4000-8000-00000000000${version}`,
  });
  const base = { mode: '0755', uid: 0, gid: 0, nlink: 2, mtime: 1700000000, mtime_nsec: 0 };
  const rest = { inode_size: 32, xattr_isize: 0, xattrs: {} };
  const lines = [JSON.stringify(header)];
  const dir = (path: string, nid: number): string =>
    JSON.stringify({
      path,
      nid,
      type: 'dir',
      ...base,
      size: 4096,
      layout: 'flat_inline',
      ...rest,
      fingerprint: null,
    });
  lines.push(dir('/', 36));
  let nid = 100;
  for (let d = 0, k = 0; d < dirs; d++) {
    const dirPath = `/usr/lib/pkg${String(d).padStart(5, '0')}`;
    lines.push(dir(dirPath, nid++));
    for (let j = 0; j < 1000 && k < files; j++, k++) {
      const v = version > 0 && k % 10 === 0 ? k * 64 + version : k * 64;
      lines.push(
        JSON.stringify({
          path: `${dirPath}/file${String(j).padStart(4, '0')}.so`,
          nid: nid++,
          type: 'file',
          ...base,
          mode: '0644',
          nlink: 1,
          size: 1 + ((k * 7919) % 200_000),
          layout: 'flat_plain',
          ...rest,
          fingerprint: '7368613235363a' + v.toString(16).padStart(16, '0').repeat(4),
        }),
      );
    }
  }
  writeFileSync(path, lines.join('\n') + '\n');
}
