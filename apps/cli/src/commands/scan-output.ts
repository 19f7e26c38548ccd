/**
 * Where and in which form `sharemap scan` writes a manifest: text, JSON, NDJSON (docs/manifest.md)
 * or the columnar Parquet form (`--format parquet`, docs/manifest.md "Columnar form"), to stdout
 * or to `--output FILE`. The Parquet library is loaded only when that form is asked for.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { manifestToJson, manifestToNdjson, type Manifest } from '@sharemap/erofs';
import { flag, str, type ParsedArgs } from '../args.js';
import { inputError } from '../errors.js';
import { fsMessage } from '../images.js';
import type { Io, Out } from '../io.js';
import { writeLines } from '../write.js';

export const SCAN_FORMATS = ['text', 'json', 'ndjson', 'parquet'] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

/** --format, or the older --json / --ndjson flags (which it cannot contradict). */
export function outputForm(args: ParsedArgs): ScanFormat {
  const given = str(args, 'format');
  const flags = (['json', 'ndjson'] as const).filter((f) => flag(args, f));
  if (flags.length > 1) throw inputError('sharemap scan: --json and --ndjson cannot be combined');
  if (given !== undefined && !(SCAN_FORMATS as readonly string[]).includes(given))
    throw inputError(`sharemap scan: --format ${given}: expected one of ${SCAN_FORMATS.join(', ')}`);
  if (given !== undefined && flags.length === 1 && flags[0] !== given)
    throw inputError(`sharemap scan: --format ${given} and --${flags[0]} cannot be combined`);
  return (given as ScanFormat | undefined) ?? flags[0] ?? 'text';
}

/** Writes `m` in `format` to `output` (a temporary file renamed into place) or to stdout. */
export async function writeManifestOutput(
  m: Manifest,
  format: ScanFormat,
  output: string | undefined,
  io: Io,
  textLines: (m: Manifest) => Iterable<string>,
): Promise<void> {
  if (format === 'parquet') {
    if (output === undefined)
      throw inputError('sharemap scan: --format parquet writes a binary file: give --output FILE');
    const { manifestToParquet } = await import('@sharemap/erofs/parquet');
    await writeWhole(output, (tmp) => writeFile(tmp, manifestToParquet(m)));
    return;
  }
  const lines =
    format === 'ndjson' ? manifestToNdjson(m) : format === 'json' ? [manifestToJson(m) + '\n'] : textLines(m);
  if (output === undefined) {
    await writeLines(io.stdout, lines);
    return;
  }
  await writeWhole(output, async (tmp) => {
    const ws = createWriteStream(tmp);
    const failed = new Promise<never>((_, reject) => ws.once('error', reject));
    // A WriteStream is an Out with back-pressure (writeLines waits for 'drain').
    await Promise.race([writeLines(ws as unknown as Out, lines), failed]);
    await Promise.race([new Promise<void>((resolve) => ws.end(resolve)), failed]);
  });
}

/** Write FILE.partial, then rename: an interrupted scan never leaves a truncated manifest under FILE. */
async function writeWhole(output: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${output}.partial`;
  try {
    await write(tmp);
    await rename(tmp, output);
  } catch (e) {
    await rm(tmp, { force: true });
    throw inputError(`${output}: cannot write: ${fsMessage(e)}`);
  }
}
