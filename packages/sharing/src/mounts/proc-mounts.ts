/**
 * /proc/mounts (= /proc/self/mounts, /etc/mtab; fs/proc_namespace.c show_vfsmnt()):
 * `SOURCE MOUNTPOINT FSTYPE OPTIONS 0 0`, paths octal-escaped. OPTIONS is the VFS flags
 * followed by erofs_show_options() output (docs/format.md#show-options): `inode_share` only while in effect,
 * `domain_id` never (R11). No major:minor, so R9 merging goes by source path.
 */
import { MountConfigError } from './errors.js';
import { buildEntry, checkEntryCount, emptyConfig, recordOtherMount } from './entry.js';
import { createDomainRedactor } from './domains.js';
import { fields, splitLines, unescapeOctal } from './text.js';
import type { MountConfig, ParseOptions } from './types.js';

export function parseProcMounts(text: string, opts: ParseOptions = {}): MountConfig {
  const file = opts.file ?? 'mounts';
  const domains = opts.domains ?? createDomainRedactor();
  const config = emptyConfig('proc-mounts', file);
  splitLines(text, file).forEach((line, i) => {
    const lineNo = i + 1;
    if (line.trim() === '') return;
    const f = fields(line);
    if (f.length !== 6) {
      throw new MountConfigError(
        'malformed-line',
        `malformed /proc/mounts line: expected 6 fields, found ${f.length}`,
        file,
        lineNo,
        f[Math.min(f.length, 6) - 1]?.column ?? 1,
      );
    }
    for (const k of [4, 5]) {
      if (!/^\d+$/.test(f[k]!.text))
        throw new MountConfigError(
          'malformed-line',
          `malformed /proc/mounts line: field ${k + 1} "${f[k]!.text}" is not a number`,
          file,
          lineNo,
          f[k]!.column,
        );
    }
    const [source, mp, fstype, options] = f as [(typeof f)[0], (typeof f)[0], (typeof f)[0], (typeof f)[0]];
    const mountPoint = unescapeOctal(mp.text);
    checkEntryCount(config, { file, line: lineNo, column: 1 });
    if (fstype.text === 'erofs') {
      const { entry, warnings } = buildEntry({
        source: unescapeOctal(source.text),
        mountPoint,
        optionsText: options.text,
        optionsColumn: options.column,
        origin: { file, line: lineNo, column: source.column },
        domains,
        view: 'kernel',
      });
      config.entries.push(entry);
      config.warnings.push(...warnings);
    } else {
      recordOtherMount(
        config,
        { file, line: lineNo },
        fstype,
        { ...mp, path: mountPoint },
        unescapeOctal(options.text),
      );
    }
  });
  return config;
}
