/**
 * /proc/self/mountinfo (proc(5), fs/proc_namespace.c show_mountinfo()):
 *
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   (1)(2)(3)   (4)   (5)         (6)       (7...)   (8)(9)   (10)      (11)
 *
 * mount ID, parent ID, major:minor of st_dev, root, mount point, per-mount options, zero or
 * more optional fields (shared:N, master:N, ...), a single "-", fs type, source, super options.
 * Paths are octal-escaped (`\040` space). The kernel's view: `inode_share` is printed only
 * while still in effect, `domain_id` never (docs/format.md#show-options, R11), so every domain is unknown.
 * major:minor identifies the superblock (R9): equal values are one instance.
 */
import { impossibleDeviceNumber } from './devices.js';
import { MountConfigError } from './errors.js';
import { buildEntry, checkEntryCount, emptyConfig, recordOtherMount } from './entry.js';
import { createDomainRedactor } from './domains.js';
import { parseOptions } from './options.js';
import { fields, splitLines, unescapeOctal } from './text.js';
import type { MountConfig, Origin, ParseOptions } from './types.js';

export function parseMountinfo(text: string, opts: ParseOptions = {}): MountConfig {
  const file = opts.file ?? 'mountinfo';
  const domains = opts.domains ?? createDomainRedactor();
  const config = emptyConfig('mountinfo', file);
  const lines = splitLines(text, file);
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line.trim() === '') return;
    const f = fields(line);
    const bad = (problem: string, column: number): never => {
      throw new MountConfigError(
        'malformed-line',
        `malformed mountinfo line: ${problem}`,
        file,
        lineNo,
        column,
      );
    };
    if (f.length < 10) bad(`expected at least 10 fields, found ${f.length}`, f[f.length - 1]?.column ?? 1);
    const [id, parent, majmin, , mp, mntopts] = f as [
      (typeof f)[0],
      (typeof f)[0],
      (typeof f)[0],
      (typeof f)[0],
      (typeof f)[0],
      (typeof f)[0],
    ];
    if (!/^\d+$/.test(id.text)) bad(`mount ID "${id.text}" is not a number`, id.column);
    if (!/^\d+$/.test(parent.text)) bad(`parent ID "${parent.text}" is not a number`, parent.column);
    if (!/^\d+:\d+$/.test(majmin.text)) bad(`"${majmin.text}" is not major:minor`, majmin.column);
    const impossible = impossibleDeviceNumber(majmin.text);
    if (impossible !== null) bad(impossible, majmin.column);
    let sep = -1;
    for (let k = 6; k < f.length; k++) {
      if (f[k]!.text === '-') {
        sep = k;
        break;
      }
    }
    if (sep < 0) bad('no "-" separator before the file system type', f[6]!.column);
    const after = f.slice(sep + 1);
    if (after.length !== 3)
      bad(
        `expected fs type, source and super options after "-", found ${after.length} fields`,
        (after[0] ?? f[sep]!).column,
      );
    const [fstype, source, superopts] = after as [(typeof f)[0], (typeof f)[0], (typeof f)[0]];
    const mountPoint = unescapeOctal(mp.text);
    const origin: Origin = { file, line: lineNo, column: 1 };
    checkEntryCount(config, origin);
    if (fstype.text === 'erofs') {
      const { entry, warnings } = buildEntry({
        source: unescapeOctal(source.text),
        mountPoint,
        optionsText: superopts.text,
        optionsColumn: superopts.column,
        origin: { file, line: lineNo, column: source.column },
        domains,
        view: 'kernel',
        device: majmin.text,
      });
      // Per-mount options (field 6) carry the VFS flags: ro, relatime, nosuid, ...
      const perMount = parseOptions(mntopts.text, { file, line: lineNo, column: mntopts.column, domains });
      if (perMount.options.readOnly !== null) entry.options.readOnly = perMount.options.readOnly;
      entry.options.generic = [...perMount.options.generic, ...entry.options.generic];
      config.entries.push(entry);
      config.warnings.push(...warnings);
    } else {
      recordOtherMount(
        config,
        { file, line: lineNo },
        fstype,
        { ...mp, path: mountPoint },
        unescapeOctal(superopts.text),
      );
    }
  });
  return config;
}
