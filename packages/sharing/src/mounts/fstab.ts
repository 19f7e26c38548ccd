/**
 * /etc/fstab (fstab(5)): `SPEC FILE VFSTYPE MNTOPTS [FREQ [PASSNO]]`, `#` comments, octal
 * escapes (`\040`). A request, not a live mount: the docs/format.md#ishare-mount checks apply (EINVAL for
 * inode_share without domain_id or with dax=always), `noauto` lines are not mounted at boot,
 * and `domain_id=` values are redacted to labels (R11).
 */
import { MountConfigError } from './errors.js';
import { buildEntry, checkEntryCount, emptyConfig, recordOtherMount } from './entry.js';
import { createDomainRedactor } from './domains.js';
import { fields, splitLines, unescapeOctal } from './text.js';
import type { MountConfig, ParseOptions } from './types.js';

export function parseFstab(text: string, opts: ParseOptions = {}): MountConfig {
  const file = opts.file ?? 'fstab';
  const domains = opts.domains ?? createDomainRedactor();
  const config = emptyConfig('fstab', file);
  splitLines(text, file).forEach((line, i) => {
    const lineNo = i + 1;
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const f = fields(line);
    if (f.length < 3 || f.length > 6) {
      throw new MountConfigError(
        'malformed-line',
        `malformed fstab line: expected 3 to 6 fields, found ${f.length}`,
        file,
        lineNo,
        f[Math.min(f.length, 7) - 1]?.column ?? 1,
      );
    }
    for (const k of [4, 5]) {
      const x = f[k];
      if (x && !/^\d+$/.test(x.text))
        throw new MountConfigError(
          'malformed-line',
          `malformed fstab line: field ${k + 1} "${x.text}" is not a number`,
          file,
          lineNo,
          x.column,
        );
    }
    const [spec, mp, type] = f as [(typeof f)[0], (typeof f)[0], (typeof f)[0]];
    const options = f[3] ?? { text: 'defaults', column: type.column + type.text.length + 1 };
    const mountPoint = unescapeOctal(mp.text);
    checkEntryCount(config, { file, line: lineNo, column: 1 });
    if (type.text === 'erofs') {
      const { entry, warnings } = buildEntry({
        source: unescapeOctal(spec.text),
        mountPoint,
        optionsText: unescapeOctal(options.text),
        optionsColumn: options.column,
        origin: { file, line: lineNo, column: spec.column },
        domains,
        view: 'config',
      });
      config.entries.push(entry);
      config.warnings.push(...warnings);
    } else {
      // A `noauto` overlay is declared but not mounted at boot: context, but not active.
      const noauto = options.text.split(',').includes('noauto');
      recordOtherMount(
        config,
        { file, line: lineNo },
        type,
        { ...mp, path: mountPoint },
        unescapeOctal(options.text),
        !noauto,
      );
    }
  });
  return config;
}
