/**
 * sharemap's own JSON mount plan (docs/mount-plan.md): what the web UI edits and what a
 * user writes by hand when no real configuration exists.
 *
 *   { "kind": "sharemap-mount-plan", "version": 1,
 *     "loopDevices": { "/dev/loop0": "/var/lib/images/app.fp.img" },
 *     "mounts": [ { "source": "...", "mountPoint": "...", "options": "ro,inode_share,domain_id=acme",
 *                   "domain": "D1", "domainUnknown": false, "image": "app.fp", "type": "erofs",
 *                   "backing": "file", "device": "7:0", "mounted": true,
 *                   "lowerdirs": [..], "user": "web-1" } ] }
 *
 * Validated field by field; every error names the field and its `plan.json:line:column`.
 * Options get the docs/format.md#ishare-mount checks of a request (view 'config'). `domain_id=` values in options
 * are redacted like everywhere else (R11); `domain` is a label and not a secret.
 */
import { impossibleDeviceNumber, isAnonymousDevice } from './devices.js';
import { MountConfigError } from './errors.js';
import { buildEntry, checkEntryCount, emptyConfig } from './entry.js';
import { createDomainRedactor } from './domains.js';
import { parseJsonLocated } from './json.js';
import type { Json } from './json.js';
import { checkInputSize } from './text.js';
import type { MountConfig, ParseOptions } from './types.js';

export const PLAN_KIND = 'sharemap-mount-plan';
export const PLAN_VERSION = 1;

export interface PlanMount {
  source: string;
  mountPoint: string;
  /** "erofs" (default) or "overlay" (context: lowerdirs/user); other types are ignored. */
  type?: string;
  /** Mount options as one comma-separated string or a list of options. */
  options?: string | string[];
  /** Domain label (not a secret), used instead of a domain_id= option. */
  domain?: string;
  /** inode_share with a domain that exists but is not known (plans made from mountinfo). */
  domainUnknown?: boolean;
  /** Image id (ReportImage.id) this mount uses. */
  image?: string;
  backing?: 'file' | 'bdev';
  /** major:minor of the superblock's device (R9). */
  device?: string;
  /** false: not mounted (like fstab noauto). Default true. */
  mounted?: boolean;
  /** overlay only: lower layers, top first. */
  lowerdirs?: string[];
  /** overlay only: container name (default derived from mountPoint). */
  user?: string;
}

export interface MountPlan {
  kind: typeof PLAN_KIND;
  version: typeof PLAN_VERSION;
  loopDevices?: Record<string, string>;
  mounts: PlanMount[];
}

const MOUNT_KEYS = new Set([
  'source',
  'mountPoint',
  'type',
  'options',
  'domain',
  'domainUnknown',
  'image',
  'backing',
  'device',
  'mounted',
  'lowerdirs',
  'user',
  'comment',
]);
const TOP_KEYS = new Set(['kind', 'version', 'loopDevices', 'mounts', 'comment']);
const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,63}$/;

export function parsePlan(text: string, opts: ParseOptions = {}): MountConfig {
  const file = opts.file ?? 'plan.json';
  const domains = opts.domains ?? createDomainRedactor();
  // JSON is not line-based: a compact one-line plan of a whole fleet is one long line. It is
  // bounded by its total size (MAX_INPUT_BYTES), its depth and its mount count (MAX_ENTRIES).
  checkInputSize(text, file);
  const { value, positions, valuePositions } = parseJsonLocated(text, file);
  const at = (ptr: string): { line: number; column: number } => positions.get(ptr) ?? { line: 1, column: 1 };
  const bad = (ptr: string, problem: string): never => {
    const p = at(ptr);
    const field =
      ptr === ''
        ? 'plan'
        : ptr
            .slice(1)
            .replace(/\/(\d+)/g, '[$1]')
            .replace(/\//g, '.');
    throw new MountConfigError('bad-plan', `${field}: ${problem}`, file, p.line, p.column);
  };
  const isObj = (v: Json | undefined): v is { [k: string]: Json } =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  const str = (o: { [k: string]: Json }, ptr: string, key: string, required: boolean): string | undefined => {
    const v = o[key];
    if (v === undefined) {
      if (required) bad(ptr, `"${key}" is required`);
      return undefined;
    }
    if (typeof v !== 'string' || v === '') bad(`${ptr}/${key}`, 'expected a non-empty string');
    return v as string;
  };
  const bool = (o: { [k: string]: Json }, ptr: string, key: string): boolean | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') bad(`${ptr}/${key}`, 'expected true or false');
    return v as boolean;
  };

  if (!isObj(value)) bad('', 'expected a JSON object');
  const top = value as { [k: string]: Json };
  for (const k of Object.keys(top)) if (!TOP_KEYS.has(k)) bad(`/${k}`, `unknown field "${k}"`);
  if (top['kind'] !== PLAN_KIND)
    bad(top['kind'] === undefined ? '' : '/kind', `"kind" must be "${PLAN_KIND}"`);
  if (top['version'] !== PLAN_VERSION)
    bad(
      top['version'] === undefined ? '' : '/version',
      `unsupported version (this reader knows version ${PLAN_VERSION})`,
    );
  const config = emptyConfig('plan', file);
  const loops = top['loopDevices'];
  if (loops !== undefined) {
    if (!isObj(loops)) bad('/loopDevices', 'expected an object of "/dev/loopN": "image file" pairs');
    for (const [dev, f] of Object.entries(loops as { [k: string]: Json })) {
      const ptr = `/loopDevices/${dev.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!dev.startsWith('/dev/')) bad(ptr, 'loop device names must start with /dev/');
      if (typeof f !== 'string' || f === '') bad(ptr, 'expected the backing file path');
      config.loopDevices[dev] = f as string;
    }
  }
  const mounts = top['mounts'];
  if (!Array.isArray(mounts)) bad(mounts === undefined ? '' : '/mounts', '"mounts" must be an array');
  (mounts as Json[]).forEach((m, k) => {
    const ptr = `/mounts/${k}`;
    if (!isObj(m)) bad(ptr, 'expected an object');
    const o = m as { [k: string]: Json };
    for (const key of Object.keys(o))
      if (!MOUNT_KEYS.has(key)) bad(`${ptr}/${key}`, `unknown field "${key}"`);
    const source = str(o, ptr, 'source', true)!;
    const mountPoint = str(o, ptr, 'mountPoint', true)!;
    if (!mountPoint.startsWith('/')) bad(`${ptr}/mountPoint`, 'must be an absolute path');
    const type = str(o, ptr, 'type', false) ?? 'erofs';
    let optionsText = '';
    let optionsPos = valuePositions.get(`${ptr}/options`) ?? at(ptr);
    const rawOpts = o['options'];
    if (typeof rawOpts === 'string') {
      optionsText = rawOpts;
      optionsPos = { line: optionsPos.line, column: optionsPos.column + 1 }; // inside the quote
    } else if (Array.isArray(rawOpts)) {
      rawOpts.forEach((x, j) => {
        if (typeof x !== 'string' || x === '' || x.includes(','))
          bad(`${ptr}/options/${j}`, 'expected one option (a non-empty string without commas)');
      });
      optionsText = (rawOpts as string[]).join(',');
      optionsPos = valuePositions.get(`${ptr}/options/0`) ?? optionsPos;
    } else if (rawOpts !== undefined) bad(`${ptr}/options`, 'expected a string or an array of strings');
    const domain = str(o, ptr, 'domain', false);
    if (domain !== undefined && !LABEL_RE.test(domain))
      bad(
        `${ptr}/domain`,
        'a domain label is 1-64 letters, digits, spaces or ._:- (labels are not domain ids)',
      );
    const domainUnknown = bool(o, ptr, 'domainUnknown') ?? false;
    if (domain !== undefined && domainUnknown)
      bad(`${ptr}/domainUnknown`, 'cannot be true together with "domain"');
    const image = str(o, ptr, 'image', false);
    const backing = o['backing'];
    if (backing !== undefined && backing !== 'file' && backing !== 'bdev')
      bad(`${ptr}/backing`, 'expected "file" or "bdev"');
    const device = str(o, ptr, 'device', false);
    if (device !== undefined && !/^\d+:\d+$/.test(device))
      bad(`${ptr}/device`, 'expected major:minor, e.g. "7:0"');
    if (device !== undefined) {
      const impossible = impossibleDeviceNumber(device);
      if (impossible !== null) bad(`${ptr}/device`, impossible);
      // A block device has a real major; a file-backed mount gets an anonymous device (major 0,
      // get_tree_nodev, R9). A plan saying otherwise contradicts itself (docs/sharing-rules.md#r9).
      if (backing === 'bdev' && isAnonymousDevice(device))
        bad(
          `${ptr}/device`,
          `${device} is an anonymous device (major 0, a mount without a block device), but "backing" is "bdev"`,
        );
      if (backing === 'file' && !isAnonymousDevice(device))
        bad(
          `${ptr}/device`,
          `${device} is a block device number, but "backing" is "file" (a file-backed mount has an anonymous device, major 0)`,
        );
    }
    const mounted = bool(o, ptr, 'mounted') ?? true;
    const user = str(o, ptr, 'user', false);
    const lowerdirs = o['lowerdirs'];
    if (
      lowerdirs !== undefined &&
      (!Array.isArray(lowerdirs) || lowerdirs.some((x) => typeof x !== 'string' || x === ''))
    ) {
      bad(`${ptr}/lowerdirs`, 'expected an array of paths');
    }
    const p = at(ptr);
    const origin = { file, line: p.line, column: p.column };
    checkEntryCount(config, origin);
    if (type === 'erofs') {
      let entryResult;
      try {
        entryResult = buildEntry({
          source,
          mountPoint,
          optionsText,
          optionsColumn: optionsPos.column,
          optionsLine: optionsPos.line,
          origin,
          domains,
          view: 'config',
          notMounted: mounted ? null : 'noauto',
          ...(domain !== undefined ? { assignedDomain: { label: domain } } : {}),
          ...(domainUnknown ? { domainUnknown } : {}),
          ...(image !== undefined ? { image } : {}),
          ...(backing !== undefined ? { backing: backing as 'file' | 'bdev' } : {}),
          ...(device !== undefined ? { device } : {}),
        });
      } catch (e) {
        // An array of options: point at the right element rather than at a column in the joined string.
        if (e instanceof MountConfigError && Array.isArray(rawOpts)) {
          const idx = Math.max(0, optionsText.slice(0, e.column - optionsPos.column).split(',').length - 1);
          const q = at(`${ptr}/options/${idx}`);
          throw new MountConfigError(e.code, e.problem, file, q.line, q.column);
        }
        throw e;
      }
      if (
        entryResult.entry.options.domainIdGiven &&
        domain !== undefined &&
        /(^|,)domain_id=/.test(optionsText)
      ) {
        bad(`${ptr}/domain`, 'give either "domain" or a domain_id= option, not both');
      }
      if (!mounted) entryResult.entry.notMounted = 'noauto';
      config.entries.push(entryResult.entry);
      config.warnings.push(...entryResult.warnings);
    } else if (type === 'overlay') {
      config.context.push({
        kind: 'overlay',
        mountPoint,
        user: user ?? mountPoint,
        lowerdirs: (lowerdirs as string[] | undefined) ?? [],
        active: mounted,
        origin,
      });
      if (user === undefined) config.context[config.context.length - 1]!.user = userFromPlan(mountPoint);
    } else {
      config.ignored.push({ fsType: type, mountPoint, origin });
    }
  });
  return config;
}

function userFromPlan(mp: string): string {
  const parts = mp.split('/').filter(Boolean);
  const last = parts[parts.length - 1] ?? mp;
  return (last === 'rootfs' || last === 'merged') && parts.length >= 2 ? parts[parts.length - 2]! : last;
}

/** Turn parsed configurations into a plan (what the web UI edits). Domains appear as labels only. */
export function toPlan(configs: MountConfig[]): MountPlan {
  const plan: MountPlan = { kind: PLAN_KIND, version: PLAN_VERSION, mounts: [] };
  const loops: Record<string, string> = {};
  for (const c of configs) {
    Object.assign(loops, c.loopDevices);
    for (const e of c.entries) {
      const o = e.options;
      const opts: string[] = [];
      if (o.readOnly !== null) opts.push(o.readOnly ? 'ro' : 'rw');
      opts.push(...o.generic);
      if (o.userXattr !== null) opts.push(o.userXattr ? 'user_xattr' : 'nouser_xattr');
      if (o.acl !== null) opts.push(o.acl ? 'acl' : 'noacl');
      if (o.cacheStrategy) opts.push(`cache_strategy=${o.cacheStrategy}`);
      if (o.dax) opts.push(`dax=${o.dax}`);
      if (o.directio) opts.push('directio');
      for (const d of o.devices) opts.push(`device=${d}`);
      if (o.fsoffset) opts.push(`fsoffset=${o.fsoffset}`);
      if (o.inodeShare) opts.push('inode_share');
      opts.push(...o.unknown.filter((u) => !u.includes('<redacted>')));
      const pm: PlanMount = {
        source: e.source,
        mountPoint: e.mountPoint,
        options: opts.filter((x) => x !== 'noauto'),
      };
      if (e.domain) pm.domain = e.domain.label;
      else if (!e.domainKnown && o.inodeShare) pm.domainUnknown = true;
      else if (o.domainIdGiven && !e.domain) pm.domainUnknown = true;
      if (e.image) pm.image = e.image;
      pm.backing = e.backing;
      if (e.device) pm.device = e.device;
      if (e.notMounted) pm.mounted = false;
      plan.mounts.push(pm);
    }
    for (const x of c.context)
      plan.mounts.push({
        source: 'overlay',
        mountPoint: x.mountPoint,
        type: 'overlay',
        lowerdirs: x.lowerdirs,
        user: x.user,
        mounted: x.active,
      });
  }
  if (Object.keys(loops).length) plan.loopDevices = loops;
  return plan;
}
