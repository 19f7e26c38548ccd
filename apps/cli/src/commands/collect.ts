/**
 * `sharemap collect [--output FILE] [--mountinfo FILE] [--root DIR]`: a host snapshot of
 * page-cache residency over every EROFS mount, for `analyze --mounts SNAPSHOT` / `--residency`.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { flag, helpText, parseCommandArgs, str, type CommandSpec } from '../args.js';
import { collectSnapshot, COLLECT_LIMITS, FincoreMissingError, readMountinfoFile } from '../collect.js';
import { EXIT_OK, inputError } from '../errors.js';
import type { Io } from '../io.js';
import { parseCount } from '../units.js';
import { COMMAND_SUMMARIES } from './summaries.js';

export const collectSpec: CommandSpec = {
  name: 'collect',
  summary: COMMAND_SUMMARIES.collect,
  usage:
    'sharemap collect [--output FILE] [--mountinfo FILE] [--root DIR] [--fincore PATH] [--max-files N] [--max-seconds S]',
  details: [
    'Reads the mount table (/proc/self/mountinfo), finds every EROFS mount and the overlay mounts above it, and runs fincore (util-linux) in batches over the regular files under each EROFS mount point. Symbolic links are never followed, other mounts below a mount point are not entered, and no file content is read. Files it may not open are counted as unreadable. Writes one gzip JSON host snapshot (page size, kernel release, time) that analyze and upload take as --mounts or --residency.',
    'Take it after a representative workload has run (docs/working-set.md). --root maps every mount point under DIR (with --mountinfo naming the mount table), to collect over extracted image trees without mounting anything.',
  ],
  options: {
    output: {
      type: 'string',
      value: 'FILE',
      description:
        'Where to write the snapshot (gzip JSON); default sharemap-snapshot.json.gz; "-" prints plain JSON.',
    },
    mountinfo: {
      type: 'string',
      value: 'FILE',
      description: 'Mount table to read; default /proc/self/mountinfo.',
    },
    root: {
      type: 'string',
      value: 'DIR',
      description: 'Look for each mount point under DIR (extracted trees).',
    },
    fincore: { type: 'string', value: 'PATH', description: 'The fincore program; default fincore on $PATH.' },
    'max-files': {
      type: 'string',
      value: 'N',
      description: `Stop after N files (the snapshot marks the mounts cut short); default ${COLLECT_LIMITS.maxFiles}.`,
    },
    'max-seconds': {
      type: 'string',
      value: 'S',
      description: `Stop after S seconds; default ${COLLECT_LIMITS.maxSeconds}.`,
    },
  },
  positionals: { min: 0, max: 0, name: '' },
  examples: [
    'sharemap collect --output host.snapshot.json.gz',
    'sharemap analyze images/*.erofs --mounts host.snapshot.json.gz --markdown',
    'sharemap collect --root /tmp/extracted --mountinfo host.mountinfo --output test.snapshot.json.gz',
  ],
};

function countFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = parseCount(value);
  if (n === null || n === 0)
    throw inputError(`--${name}: expected a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

export async function collectCommand(argv: string[], io: Io): Promise<number> {
  const args = parseCommandArgs(collectSpec, argv);
  if (flag(args, 'help')) {
    io.stdout.write(helpText(collectSpec));
    return EXIT_OK;
  }
  const root = str(args, 'root');
  const mountinfo = await readMountinfoFile(
    resolve(io.cwd, str(args, 'mountinfo') ?? '/proc/self/mountinfo'),
  );
  const fincore = str(args, 'fincore') ?? 'fincore';
  const output = str(args, 'output') ?? 'sharemap-snapshot.json.gz';
  let snapshot;
  try {
    snapshot = await collectSnapshot({
      mountinfo,
      root: root === undefined ? null : resolve(io.cwd, root),
      fincore,
      maxFiles: countFlag(str(args, 'max-files'), 'max-files', COLLECT_LIMITS.maxFiles),
      maxSeconds: countFlag(str(args, 'max-seconds'), 'max-seconds', COLLECT_LIMITS.maxSeconds),
      onProgress: (m) => io.stderr.write(`sharemap: ${m}\n`),
    });
  } catch (e) {
    if (e instanceof FincoreMissingError)
      throw inputError(
        `sharemap collect needs fincore (util-linux >= 2.30; Debian: apt-get install util-linux), and ${e.message}; give --fincore PATH if it lives elsewhere`,
      );
    throw e;
  }
  const json = JSON.stringify(snapshot);
  if (output === '-') io.stdout.write(json + '\n');
  else {
    try {
      await writeFile(resolve(io.cwd, output), gzipSync(json));
    } catch (e) {
      throw inputError(`${output}: cannot write: ${(e as Error).message}`);
    }
  }
  const files = snapshot.mounts.reduce((a, m) => a + m.files.length, 0);
  const resident = snapshot.mounts.reduce((a, m) => a + m.files.reduce((b, f) => b + f[1], 0), 0);
  io.stderr.write(
    `sharemap: ${snapshot.mounts.length} EROFS mount(s), ${files} files, ${resident} resident pages of ${snapshot.host.pageSize} bytes${output === '-' ? '' : `; wrote ${output}`}\n`,
  );
  if (snapshot.mounts.length === 0) io.stderr.write('sharemap: warning: no EROFS mount in the mount table\n');
  return EXIT_OK;
}
