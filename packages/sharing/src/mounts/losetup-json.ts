/**
 * `losetup --list --json` (util-linux): `{"loopdevices": [{"name": "/dev/loop0",
 * "back-file": "/path/img", "offset": 0, "ro": true, ...}]}`. Yields loop-device ->
 * backing-file mappings only (no mount entries); resolveInstances() uses them to find the
 * image behind a `/dev/loopN` mount source. util-linux appends " (deleted)" to the
 * back-file of a deleted file; it is stripped with a warning. The DIO column (whether the loop
 * device bypasses the backing file's page cache) goes to `loopDirectIo`.
 */
import { MountConfigError } from './errors.js';
import { emptyConfig } from './entry.js';
import { parseJsonLocated } from './json.js';
import { checkInputSize } from './text.js';
import type { MountConfig, ParseOptions } from './types.js';

export function parseLosetupJson(text: string, opts: ParseOptions = {}): MountConfig {
  const file = opts.file ?? 'losetup.json';
  // JSON is not line-based: a compact one-line plan of a whole fleet is one long line. It is
  // bounded by its total size (MAX_INPUT_BYTES), its depth and its mount count (MAX_ENTRIES).
  checkInputSize(text, file);
  const { value, positions } = parseJsonLocated(text, file);
  const config = emptyConfig('losetup-json', file);
  const at = (ptr: string): { line: number; column: number } => positions.get(ptr) ?? { line: 1, column: 1 };
  const bad = (ptr: string, problem: string): never => {
    const p = at(ptr);
    throw new MountConfigError('bad-losetup', problem, file, p.line, p.column);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    bad('', 'expected an object with "loopdevices"');
  const list = (value as Record<string, unknown>)['loopdevices'];
  if (!Array.isArray(list)) bad('', '"loopdevices" must be an array');
  (list as unknown[]).forEach((d, k) => {
    const ptr = `/loopdevices/${k}`;
    if (d === null || typeof d !== 'object' || Array.isArray(d))
      bad(ptr, 'loop device entry must be an object');
    const rec = d as Record<string, unknown>;
    const name = rec['name'];
    let back = rec['back-file'];
    if (typeof name !== 'string' || !name.startsWith('/dev/'))
      bad(`${ptr}/name`, '"name" must be a /dev path');
    if (back === null || back === undefined) return; // detached device
    if (typeof back !== 'string') bad(`${ptr}/back-file`, '"back-file" must be a string');
    const p = at(`${ptr}/back-file`);
    const origin = { file, line: p.line, column: p.column };
    if ((back as string).endsWith(' (deleted)')) {
      back = (back as string).slice(0, -' (deleted)'.length);
      config.warnings.push({
        code: 'unsupported-shell',
        message: `${file}:${p.line}:${p.column}: backing file of ${name as string} was deleted`,
        origin,
      });
    }
    const offset = rec['offset'];
    if (typeof offset === 'number' && offset !== 0) {
      config.warnings.push({
        code: 'loop-offset',
        message: `${file}:${p.line}:${p.column}: ${name as string} starts at offset ${offset} of its backing file`,
        origin,
      });
    }
    config.loopDevices[name as string] = back as string;
    // util-linux prints DIO as a JSON boolean (2.38) or as "0"/"1" (older releases).
    const dio = rec['dio'];
    if (dio !== undefined && dio !== null) {
      const on =
        dio === true || dio === 1 || dio === '1'
          ? true
          : dio === false || dio === 0 || dio === '0'
            ? false
            : null;
      if (on === null) bad(`${ptr}/dio`, '"dio" must be true, false, 1, 0, "1" or "0"');
      (config.loopDirectIo ??= {})[name as string] = on as boolean;
    }
  });
  return config;
}
