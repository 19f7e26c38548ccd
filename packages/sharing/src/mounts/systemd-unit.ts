/**
 * systemd mount units (systemd.mount(5)): the `[Mount]` section's What=, Where=, Type=,
 * Options=. The unit file name is the escaped mount point (systemd-escape --path:
 * `/` -> `-`, other bytes as `\xNN`, so `run-images-base\x2dv1.mount` is /run/images/base-v1);
 * a Where= that does not match it is reported, as systemd refuses such units.
 * Options are a request: the docs/format.md#ishare-mount checks apply. `noauto` has no effect in a unit file
 * (activation follows [Install] and dependencies), so units count as mounted.
 */
import { MountConfigError } from './errors.js';
import { buildEntry, checkEntryCount, emptyConfig, overlayContext } from './entry.js';
import { createDomainRedactor } from './domains.js';
import { MAX_UNIT_FILES } from './limits.js';
import { basename, splitLines, trimTrailingSlashes } from './text.js';
import type { MountConfig, ParseOptions } from './types.js';

/** Mount point a unit file name stands for (inverse of systemd-escape --path, unit_name_path_unescape()). */
export function unitNameToPath(unitName: string): string | null {
  const m = /^(.*)\.mount$/.exec(basename(unitName));
  if (!m) return null;
  const body = m[1]!;
  if (body === '-') return '/';
  const path = '/' + body.split('-').join('/');
  return path.replace(/\\x([0-9a-fA-F]{2})/g, (_s, h: string) => String.fromCharCode(parseInt(h, 16)));
}

interface Value {
  text: string;
  line: number;
  column: number;
}

/** Parse one unit file. `opts.file` should be the unit file name (it encodes the mount point). */
export function parseSystemdUnit(text: string, opts: ParseOptions = {}): MountConfig {
  return parseSystemdUnits([{ name: opts.file ?? 'unit.mount', text }], opts);
}

/** Parse several unit files into one configuration. */
export function parseSystemdUnits(
  files: { name: string; text: string }[],
  opts: ParseOptions = {},
): MountConfig {
  const domains = opts.domains ?? createDomainRedactor();
  const config = emptyConfig('systemd-unit', files.length === 1 ? files[0]!.name : (opts.file ?? 'units'));
  if (files.length > MAX_UNIT_FILES)
    throw new MountConfigError('too-large', `more than ${MAX_UNIT_FILES} unit files`, config.file, 1, 1);
  for (const { name: file, text } of files) {
    const lines = splitLines(text, file);
    let section = '';
    let mountSectionLine = 0;
    const values = new Map<string, Value>();
    for (let i = 0; i < lines.length; i++) {
      const lineNo = i + 1;
      let line = lines[i]!;
      const t = line.trim();
      if (t === '' || t.startsWith('#') || t.startsWith(';')) continue;
      if (t.startsWith('[')) {
        if (!t.endsWith(']'))
          throw new MountConfigError(
            'malformed-line',
            'section header without closing "]"',
            file,
            lineNo,
            line.indexOf('[') + 1,
          );
        section = t.slice(1, -1);
        if (section === 'Mount') mountSectionLine = lineNo;
        continue;
      }
      const eq = line.indexOf('=');
      if (eq < 0)
        throw new MountConfigError(
          'malformed-line',
          'expected Key=Value',
          file,
          lineNo,
          line.length - line.trimStart().length + 1,
        );
      // Continuation lines: a trailing backslash joins the next line (with a space).
      while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + ' ' + lines[++i]!.trim();
      if (section !== 'Mount') continue;
      const key = line.slice(0, eq).trim();
      const raw = line.slice(eq + 1);
      const lead = raw.length - raw.trimStart().length;
      values.set(key, { text: raw.trim().replace(/%%/g, '%'), line: lineNo, column: eq + 2 + lead });
    }
    if (!mountSectionLine) throw new MountConfigError('malformed-line', 'no [Mount] section', file, 1, 1);
    const what = values.get('What');
    if (!what || what.text === '')
      throw new MountConfigError('malformed-line', 'What= is missing in [Mount]', file, mountSectionLine, 1);
    const fromName = unitNameToPath(file);
    const where = values.get('Where');
    const mountPoint = where?.text || fromName;
    if (!mountPoint)
      throw new MountConfigError(
        'malformed-line',
        'Where= is missing and the file name is not a .mount unit name',
        file,
        mountSectionLine,
        1,
      );
    const whereOrigin = { file, line: where?.line ?? mountSectionLine, column: where?.column ?? 1 };
    if (fromName !== null && trimTrailingSlashes(mountPoint) !== fromName) {
      config.warnings.push({
        code: 'unit-name-mismatch',
        message: `${file}:${whereOrigin.line}:${whereOrigin.column}: Where=${mountPoint} does not match the unit name (${fromName}); systemd refuses such a unit`,
        origin: whereOrigin,
      });
    }
    const type = values.get('Type');
    const options = values.get('Options') ?? { text: '', line: mountSectionLine, column: 1 };
    checkEntryCount(config, whereOrigin);
    if (!type) {
      config.warnings.push({
        code: 'missing-type',
        message: `${file}:${mountSectionLine}:1: no Type=; the unit is not treated as erofs`,
        origin: { file, line: mountSectionLine, column: 1 },
      });
      config.ignored.push({ fsType: '', mountPoint, origin: whereOrigin });
    } else if (type.text === 'erofs') {
      const { entry, warnings } = buildEntry({
        source: what.text,
        mountPoint,
        optionsText: options.text,
        optionsColumn: options.column,
        optionsLine: options.line,
        origin: { file, line: what.line, column: what.column },
        domains,
        view: 'config',
        notMounted: null,
      });
      config.entries.push(entry);
      config.warnings.push(...warnings);
    } else if (type.text === 'overlay') {
      config.context.push(overlayContext(mountPoint, options.text, whereOrigin));
    } else {
      config.ignored.push({
        fsType: type.text,
        mountPoint,
        origin: { file, line: type.line, column: type.column },
      });
    }
  }
  return config;
}
