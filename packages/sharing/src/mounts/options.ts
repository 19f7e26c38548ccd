/**
 * EROFS mount-option semantics (spec §8.3 and §8.7; Documentation/filesystems/erofs.rst,
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
 * Parse one comma-separated option string. Throws MountConfigError ('bad-option-value') where
 * the kernel's fs_parse() would reject a known EROFS parameter's value.
 */
export function parseOptions(text: string, ctx: OptionContext): ParsedOptions {
  const o = emptyOptions();
  const warnings: MountWarning[] = [];
  let domainRaw: string | null = null;
  let unknownParameter: string | null = null;
  let parseFailure: MountError | null = null;
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
    const bad = (problem: string): never => {
      throw new MountConfigError('bad-option-value', problem, origin.file, origin.line, origin.column);
    };
    const flag = (): void => {
      if (value !== null) bad(`option ${name} takes no value`);
    };
    const needValue = (): string => {
      if (value === null || value === '') bad(`option ${name} needs a non-empty value`);
      return value as string;
    };
    /**
     * A string parameter (fsparam_string: domain_id, device, fsid). fs_param_is_string() refuses
     * an empty value ("<name>: Non-empty value required"), which fails this mount only, as any
     * EINVAL of fs_parse() does: null then, and the caller skips the option.
     */
    const stringValue = (): string | null => {
      if (value === null || value === '') {
        parseFailure ??= {
          errno: 'EINVAL',
          reason: 'empty-value',
          message: `erofs: ${name}: Non-empty value required`,
        };
        warnings.push({
          code: 'mount-failed',
          message: `${at}: option ${name} has an empty value: the kernel refuses the mount (EINVAL, "${name}: Non-empty value required")`,
          origin,
        });
        return null;
      }
      return value;
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
        flag();
        o.inodeShare = true;
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
        else bad(`dax= must be always or never`);
        break;
      case 'directio':
        flag();
        o.directio = true;
        break;
      case 'nodirectio':
        flag();
        o.directio = false;
        break;
      case 'device': {
        const v = stringValue();
        if (v === null) break;
        o.devices.push(v);
        if (o.devices.length > MAX_DEVICES_PER_MOUNT)
          bad(`more than ${MAX_DEVICES_PER_MOUNT} device= options`);
        break;
      }
      case 'fsoffset': {
        const n = parseU64(needValue());
        if (n === null) bad(`fsoffset= must be an unsigned integer number of bytes, got "${value}"`);
        o.fsoffset = n as number;
        break;
      }
      case 'cache_strategy': {
        const v = needValue();
        if (!(CACHE_STRATEGIES as readonly string[]).includes(v))
          bad(`cache_strategy= must be one of ${CACHE_STRATEGIES.join(', ')}, got "${v}"`);
        o.cacheStrategy = v as CacheStrategy;
        break;
      }
      case 'user_xattr':
      case 'nouser_xattr':
        flag();
        o.userXattr = name === 'user_xattr';
        break;
      case 'acl':
      case 'noacl':
        flag();
        o.acl = name === 'acl';
        break;
      case 'ro':
      case 'rw':
        flag();
        o.readOnly = name === 'ro';
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
 * The mount-time checks of spec §8.3 that the configuration alone decides, in the kernel's
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
