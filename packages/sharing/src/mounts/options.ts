/**
 * EROFS mount-option semantics (docs/format.md#ishare-mount and docs/format.md#show-options; Documentation/filesystems/erofs.rst,
 * Linux 7.0-7.2). Mirrors erofs_fc_parse_param() for the EROFS parameters and the checks at
 * the start of erofs_fc_fill_super(); generic VFS flags and mount(8)/systemd user-space
 * options are recognised and kept verbatim.
 *
 * The value of `domain_id=` is turned into a label at once and never stored (R11).
 */
import type { DomainLabel } from '../report.js';
import { MountConfigError } from './errors.js';
import { MAX_DEVICES_PER_MOUNT, MAX_OPTIONS_PER_MOUNT } from './limits.js';
import type {
  CacheStrategy,
  DomainRedactor,
  MountError,
  MountOptions,
  MountWarning,
  Origin,
} from './types.js';

/** VFS flags (converted by mount(8) into MS_* flags) and user-space options mount(8),
 * systemd and fstab handle themselves; none reaches erofs_fc_parse_param(). */
const GENERIC_OPTIONS = new Set([
  'defaults',
  'auto',
  'noauto',
  'user',
  'nouser',
  'users',
  'owner',
  'group',
  'nofail',
  '_netdev',
  'sync',
  'async',
  'dirsync',
  'atime',
  'noatime',
  'diratime',
  'nodiratime',
  'relatime',
  'norelatime',
  'strictatime',
  'nostrictatime',
  'lazytime',
  'nolazytime',
  'suid',
  'nosuid',
  'dev',
  'nodev',
  'exec',
  'noexec',
  'mand',
  'nomand',
  'silent',
  'loud',
  'remount',
  'bind',
  'rbind',
  'iversion',
  'noiversion',
  'nosymfollow',
  'symfollow',
]);
/** Generic options with a value (mount(8) loop setup, SELinux contexts, comments, systemd). */
const GENERIC_PREFIXES = [
  'x-',
  'X-',
  'comment=',
  'context=',
  'fscontext=',
  'defcontext=',
  'rootcontext=',
  'offset=',
  'sizelimit=',
  'encryption=',
  'uhelper=',
  'helper=',
];

const CACHE_STRATEGIES: readonly CacheStrategy[] = ['disabled', 'readahead', 'readaround'];

export interface OptionContext {
  file: string;
  line: number;
  /** Column of the first character of the option string on its line. */
  column: number;
  domains: DomainRedactor;
  /**
   * What a value the kernel refuses does: 'fail-mount' (requests: fstab, units, scripts,
   * plans) makes it that mount's EINVAL (`parseFailure`) and a `mount-failed` warning;
   * 'throw' (default; the kernel's own views, which cannot contain one) throws
   * MountConfigError 'bad-option-value'.
   */
  badValues?: 'throw' | 'fail-mount';
}

export interface ParsedOptions {
  options: MountOptions;
  /** Label of the last `domain_id=` (the kernel keeps the last one), or null. */
  domain: DomainLabel | null;
  /** First option the kernel would reject as unknown (config inputs fail the mount with it). */
  unknownParameter: string | null;
  /**
   * The first parameter the kernel's fs_parse() refuses (unknown name, or a string parameter
   * given an empty value: "Non-empty value required"): that mount fails with EINVAL, the others
   * go on (config inputs, see mountErrorFor).
   */
  parseFailure: MountError | null;
  warnings: MountWarning[];
}

export function emptyOptions(): MountOptions {
  return {
    inodeShare: false,
    domainIdGiven: false,
    dax: null,
    directio: false,
    cacheStrategy: null,
    devices: [],
    fsoffset: 0,
    userXattr: null,
    acl: null,
    readOnly: null,
    noauto: false,
    loop: false,
    fsid: null,
    generic: [],
    unknown: [],
  };
}

/** Split an option string on commas outside double quotes (libmount allows `"a,b"` values). */
export function splitOptions(text: string): { text: string; offset: number }[] {
  const out: { text: string; offset: number }[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if ((c === ',' && !quoted) || i === text.length) {
      if (i > start) out.push({ text: text.slice(start, i), offset: start });
      start = i + 1;
    }
  }
  return out;
}

function stripQuotes(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** Redact the value of an unknown option whose name suggests a domain (e.g. a typo `domainid=`). */
function redactUnknown(opt: string): string {
  const eq = opt.indexOf('=');
  if (eq < 0) return opt;
  const name = opt.slice(0, eq);
  return /domain/i.test(name) ? `${name}=<redacted>` : opt;
}

/** Parse `fsoffset=` like kstrtoull(s, 0): decimal, 0x hex or leading-0 octal. */
function parseU64(v: string): number | null {
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(v)) n = parseInt(v.slice(2), 16);
  else if (/^0[0-7]+$/.test(v)) n = parseInt(v.slice(1), 8);
  else if (/^\d+$/.test(v)) n = Number(v);
  else return null;
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * Parse one comma-separated option string. Where the kernel's fs_parse() would reject a known
 * EROFS parameter's value: the mount's failure, or a thrown MountConfigError ('bad-option-value'),
 * as `ctx.badValues` says.
 */
export function parseOptions(text: string, ctx: OptionContext): ParsedOptions {
  const o = emptyOptions();
  const warnings: MountWarning[] = [];
  let domainRaw: string | null = null;
  let unknownParameter: string | null = null;
  let parseFailure: MountError | null = null;
  const badValues = ctx.badValues ?? 'throw';
  const parts = splitOptions(text);
  if (parts.length > MAX_OPTIONS_PER_MOUNT) {
    throw new MountConfigError(
      'too-large',
      `more than ${MAX_OPTIONS_PER_MOUNT} options`,
      ctx.file,
      ctx.line,
      ctx.column,
    );
  }
  const seen = new Set<string>();
  for (const part of parts) {
    const origin: Origin = { file: ctx.file, line: ctx.line, column: ctx.column + part.offset };
    const at = `${origin.file}:${origin.line}:${origin.column}`;
    const eq = part.text.indexOf('=');
    const name = eq < 0 ? part.text : part.text.slice(0, eq);
    const value = eq < 0 ? null : stripQuotes(part.text.slice(eq + 1));
    /**
     * A value the kernel's fs_parse() refuses. That fails this mount only (EINVAL), so requests
     * record it as the mount's failure and skip the option ('fail-mount'); the kernel's own
     * views cannot contain one, so there it is a malformed input ('throw'). Returns false.
     */
    const refuse = (problem: string, reason: MountError['reason'], kernelMessage: string): false => {
      if (badValues === 'throw')
        throw new MountConfigError('bad-option-value', problem, origin.file, origin.line, origin.column);
      parseFailure ??= { errno: 'EINVAL', reason, message: kernelMessage };
      warnings.push({
        code: 'mount-failed',
        message: `${at}: ${problem}: the kernel refuses the mount (EINVAL)`,
        origin,
      });
      return false;
    };
    const badValue = (problem: string): false =>
      refuse(problem, 'bad-value', `erofs: bad value for ${name}: ${problem}`);
    /** A flag: true when given without a value. */
    const flag = (): boolean => value === null || badValue(`option ${name} takes no value`);
    /**
     * A string parameter (fsparam_string: domain_id, device, fsid). fs_param_is_string() refuses
     * an empty value ("<name>: Non-empty value required"): null then, and the option is skipped.
     */
    const stringValue = (): string | null => {
      if (value !== null && value !== '') return value;
      refuse(
        `option ${name} needs a non-empty value`,
        'empty-value',
        `erofs: ${name}: Non-empty value required`,
      );
      return null;
    };
    if (
      name !== 'device' &&
      seen.has(name) &&
      (name === 'domain_id' ||
        name === 'inode_share' ||
        name === 'dax' ||
        name === 'cache_strategy' ||
        name === 'fsoffset')
    ) {
      warnings.push({
        code: 'duplicate-option',
        message: `${at}: option ${name} given more than once; the last one wins`,
        origin,
      });
    }
    seen.add(name);
    switch (name) {
      case 'inode_share':
        if (flag()) o.inodeShare = true;
        break;
      case 'domain_id': {
        const v = stringValue();
        if (v === null) break;
        domainRaw = v;
        o.domainIdGiven = true;
        break;
      }
      case 'dax':
        if (value === null)
          o.dax = 'always'; // legacy flag = dax=always (erofs_fc_parse_param, Opt_dax)
        else if (value === 'always' || value === 'never') o.dax = value;
        else badValue(`dax= must be always or never`);
        break;
      case 'directio':
        if (flag()) o.directio = true;
        break;
      case 'nodirectio':
        if (flag()) o.directio = false;
        break;
      case 'device': {
        const v = stringValue();
        if (v === null) break;
        o.devices.push(v);
        if (o.devices.length > MAX_DEVICES_PER_MOUNT)
          throw new MountConfigError(
            'bad-option-value',
            `more than ${MAX_DEVICES_PER_MOUNT} device= options`,
            origin.file,
            origin.line,
            origin.column,
          );
        break;
      }
      case 'fsoffset': {
        const n = value === null ? null : parseU64(value);
        if (n === null)
          badValue(`fsoffset= must be an unsigned integer number of bytes, got "${value ?? ''}"`);
        else o.fsoffset = n;
        break;
      }
      case 'cache_strategy': {
        if (value !== null && (CACHE_STRATEGIES as readonly string[]).includes(value))
          o.cacheStrategy = value as CacheStrategy;
        else badValue(`cache_strategy= must be one of ${CACHE_STRATEGIES.join(', ')}, got "${value ?? ''}"`);
        break;
      }
      case 'user_xattr':
      case 'nouser_xattr':
        if (flag()) o.userXattr = name === 'user_xattr';
        break;
      case 'acl':
      case 'noacl':
        if (flag()) o.acl = name === 'acl';
        break;
      case 'ro':
      case 'rw':
        if (flag()) o.readOnly = name === 'ro';
        break;
      case 'fsid': {
        const v = stringValue();
        if (v === null) break;
        o.fsid = v;
        warnings.push({
          code: 'obsolete-option',
          message: `${at}: fsid= belongs to the fscache backend, removed in Linux 7.2`,
          origin,
        });
        break;
      }
      case 'loop':
        o.loop = value === null ? true : value;
        o.generic.push(part.text);
        break;
      default:
        if (GENERIC_OPTIONS.has(name) && value === null) {
          if (name === 'noauto') o.noauto = true;
          if (name === 'auto') o.noauto = false;
          o.generic.push(part.text);
        } else if (GENERIC_PREFIXES.some((p) => part.text.startsWith(p))) {
          o.generic.push(part.text);
        } else {
          const kept = redactUnknown(part.text);
          o.unknown.push(kept);
          unknownParameter ??= kept;
          parseFailure ??= {
            errno: 'EINVAL',
            reason: 'unknown-option',
            message: `erofs: Unknown parameter '${kept.split('=')[0]}'`,
          };
          warnings.push({
            code: 'unknown-option',
            message: `${at}: unknown option "${kept}" (kept; the kernel refuses unknown parameters with EINVAL)`,
            origin,
          });
        }
    }
  }
  const domain = domainRaw === null ? null : ctx.domains.labelFor(domainRaw);
  return { options: o, domain, unknownParameter, parseFailure, warnings };
}

/**
 * The mount-time checks of docs/format.md#ishare-mount that the configuration alone decides, in the kernel's
 * order (unknown parameter at parse time, then erofs_fc_fill_super's checks 1 and 2).
 * The R3 check (image lacks ISHARE_XATTRS) needs the image and is the engine's.
 */
export function mountErrorFor(p: ParsedOptions): MountError | null {
  if (p.parseFailure !== null) return p.parseFailure;
  const o = p.options;
  if (o.inodeShare && !o.domainIdGiven)
    return { errno: 'EINVAL', reason: 'no-domain', message: 'domain_id is needed when inode_ishare is on' };
  if (o.inodeShare && o.dax === 'always')
    return { errno: 'EINVAL', reason: 'dax', message: 'FSDAX is not allowed when inode_ishare is on' };
  // 512 is the smallest EROFS block size; the engine checks the image's own (resolveInstanceState).
  if (o.fsoffset % 512 !== 0) {
    return {
      errno: 'EINVAL',
      reason: 'fsoffset-unaligned',
      message: `fsoffset ${o.fsoffset} is not aligned to block size`,
    };
  }
  return null;
}
