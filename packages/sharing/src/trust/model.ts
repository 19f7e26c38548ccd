/**
 * buildTrustModel(): the trust model of an analysed deployment (docs/trust.md), an additive
 * layer over the engine's Report. It reads the report's shared inodes (groups), instances,
 * domains and findings, and the manifests only to classify each fingerprint (content-bound,
 * verified-mismatch, unverifiable, publisher-defined); it changes nothing in the report.
 */
import { manifestColumns, TYPE_FILE, type Manifest } from '@sharemap/erofs';
import type { AnalysisInput, Report, ReportInstance } from '../report.js';
import { formatBytes, formatInteger } from '../render/bytes.js';
import { rowClasses, rowCopies } from '../model/file-rows.js';
import { groupColumnsOf, groupMemberCount } from '../model/group-columns.js';
import {
  SHA256_FINGERPRINT_HEX_LENGTH,
  SHA256_FINGERPRINT_PREFIX_HEX,
  fingerprintMatchesSha256,
  fingerprintState,
} from '../model/keys.js';
import {
  CROSS_DOMAIN_KEY_COLLISION,
  FINGERPRINT_BINDINGS,
  MAX_TRUST_INODES,
  MAX_TRUST_ROWS,
  TRUST_EXAMPLES,
  TRUST_MODEL_VERSION,
  type BackingFileAttributes,
  type BackingFileState,
  type CrossImageInode,
  type FingerprintBinding,
  type TrustBoundaryBreak,
  type TrustDomain,
  type TrustImageFingerprints,
  type TrustInstance,
  type TrustLifetime,
  type TrustMatrixCell,
  type TrustModel,
  type TrustParty,
  type TrustStatement,
} from './types.js';
import { LargestGroups } from './largest.js';
import { BINDING_ASK, BINDING_NONE } from '../model/core.js';
import { engineBindings } from '../model/engine-bindings.js';
import { reportPathAt } from '../model/report-paths.js';

/** Finding codes listed as boundary breaks. */
const BOUNDARY_BREAK_CODES: readonly string[] = [CROSS_DOMAIN_KEY_COLLISION];
/** A mount source that is a loop device (`/dev/loopN`, `/dev/loop/N`). */
const LOOP_DEVICE_RE = /^\/dev\/loop\/?\d+$/;
/** Codes of the bindings (their index in FINGERPRINT_BINDINGS). */
const CONTENT_BOUND = FINGERPRINT_BINDINGS.indexOf('content-bound');
const VERIFIED_MISMATCH = FINGERPRINT_BINDINGS.indexOf('verified-mismatch');
const UNVERIFIABLE = FINGERPRINT_BINDINGS.indexOf('unverifiable');
const PUBLISHER_DEFINED = FINGERPRINT_BINDINGS.indexOf('publisher-defined');
/** Weakest first: how `TrustImageFingerprints.weakest` is chosen. */
const WEAKNESS_ORDER: readonly FingerprintBinding[] = [
  'verified-mismatch',
  'publisher-defined',
  'unverifiable',
  'content-bound',
];

/** What an attacker needs to make other members read substituted content, per binding (docs/trust.md). */
export const ATTACKER_NEEDS: Record<FingerprintBinding, string> = {
  'content-bound': 'content whose sha256 equals the digest (a sha256 second preimage): infeasible',
  'verified-mismatch': 'nothing more: this image already supplies other content under these keys',
  unverifiable:
    'publishing one image into the domain that carries the same sha256-form value over other content (the claim was not checked: scan with --hash)',
  'publisher-defined':
    'publishing one image into the domain that carries the same value (e.g. the same serial) over other content',
};

export function partyKeyOf(imageId: string, publisher: string | undefined | null): string {
  return publisher !== undefined && publisher !== null ? `pub:${publisher}` : `image:${imageId}`;
}

/** Whether the instance takes part in sharing (mounted, inode_share in effect). */
export function sharesPages(inst: ReportInstance): boolean {
  return inst.inodeShare.effective && inst.mountError === undefined && !inst.notMounted;
}

function plural(n: number, word: string): string {
  return `${formatInteger(n)} ${word}${n === 1 ? '' : 's'}`;
}

/** The verb form for a count: `agree(1, 'carries', 'carry')` is "carries". */
function agree(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

/**
 * How many of a domain's cross-image groups, largest first, the trust model lists or reads:
 * its inodes (MAX_TRUST_INODES), its examples, and the groups whose members fill its rows
 * (MAX_TRUST_ROWS; a cross-image group has at least two members, so no more groups than rows).
 */
const LISTED_GROUPS = Math.max(MAX_TRUST_INODES, MAX_TRUST_ROWS, TRUST_EXAMPLES);

/** A domain's cross-image groups, gathered in one pass in group order (buildTrustModel). */
interface DomainCrossGroups {
  count: number;
  /** Their member rows (memberCount). */
  rowCount: number;
  /** Sum of their bytes in group order; exact while `integers` and below 2^53. */
  bytes: number;
  integers: boolean;
  largest: LargestGroups;
}

/** The report's per-row helpers used by the trust model and by views (Files filtered to a cell). */
export class TrustIndex {
  readonly partyOfImage = new Map<string, string>();
  readonly imageName = new Map<string, string>();
  readonly domainOfInstance: (string | null)[];
  constructor(readonly report: Report) {
    for (const img of report.images) {
      this.partyOfImage.set(img.id, partyKeyOf(img.id, img.publisher));
      this.imageName.set(img.id, img.name);
    }
    const byId = new Map<string, string>();
    for (const d of report.domains) for (const id of d.instanceIds) byId.set(id, d.label);
    this.domainOfInstance = report.instances.map((i) => byId.get(i.id) ?? null);
  }
  imageOfRow(row: number): string {
    return this.report.instances[this.report.files.instance[row]!]!.imageId;
  }
  partyOfRow(row: number): string {
    const id = this.imageOfRow(row);
    return this.partyOfImage.get(id) ?? partyKeyOf(id, null);
  }
  /** "image:path" of a row. */
  fileOf(row: number): string {
    const id = this.imageOfRow(row);
    return `${this.imageName.get(id) ?? id}:${reportPathAt(this.report.paths, id, this.report.files.file[row]!) ?? '?'}`;
  }
}

/**
 * Every cross-image read of the report: for each shared inode, each member row whose image is
 * not the first member's image (R5: the first member's bytes are what everyone reads).
 * `visit(group, supplierRow, readerRow)` is called in group, then member order.
 */
export function forEachCrossImageRead(
  report: Report,
  visit: (group: number, supplierRow: number, readerRow: number) => void,
): void {
  const inst = report.files.instance;
  const { count, memberStart, memberRows } = groupColumnsOf(report);
  for (let gi = 0; gi < count; gi++) {
    const from = memberStart[gi]!;
    const to = memberStart[gi + 1]!;
    if (to === from) continue;
    const first = memberRows[from]!;
    const supplierImage = report.instances[inst[first]!]!.imageId;
    for (let k = from + 1; k < to; k++) {
      const r = memberRows[k]!;
      if (report.instances[inst[r]!]!.imageId !== supplierImage) visit(gi, first, r);
    }
  }
}

/** All reading rows of one matrix cell, uncapped (the Files view filtered to a cell). */
export function trustCellRows(report: Report, supplier: string, reader: string): number[] {
  const ix = new TrustIndex(report);
  const rows: number[] = [];
  forEachCrossImageRead(report, (_g, s, r) => {
    if (ix.partyOfRow(s) === supplier && ix.partyOfRow(r) === reader) rows.push(r);
  });
  return rows;
}

/**
 * Whether a fingerprint has the mkfs form `sha256:` + 32 bytes (keys.fingerprintDigest without
 * its copies: this runs once per record, 2M records at fleet scale).
 */
function isSha256Form(fp: string): boolean {
  if (fp.length !== SHA256_FINGERPRINT_HEX_LENGTH) return false;
  for (let k = 0; k < SHA256_FINGERPRINT_PREFIX_HEX.length; k++)
    if ((fp.charCodeAt(k) | 0x20) !== SHA256_FINGERPRINT_PREFIX_HEX.charCodeAt(k)) return false;
  return true;
}

/** Per image, each regular file's fingerprint binding (R4 usable fingerprints only). */
type RawFingerprints = Omit<TrustImageFingerprints, 'domains' | 'statements'> & {
  /** Binding of each file (manifest index = `Report.paths` index): an index into FINGERPRINT_BINDINGS, negative: none. */
  bindingOf: Int8Array;
};

/** The binding of a usable fingerprint and its file's sha256: an index into FINGERPRINT_BINDINGS. */
function bindingCode(fp: string, sha: string | undefined): number {
  return !isSha256Form(fp)
    ? PUBLISHER_DEFINED
    : !sha
      ? UNVERIFIABLE
      : // endsWith first: manifests write both in lower case, and it copies nothing.
        fp.endsWith(sha) || fingerprintMatchesSha256(fp, sha)
        ? CONTENT_BOUND
        : VERIFIED_MISMATCH;
}

function fingerprintsOf(report: Report, input: AnalysisInput): Map<string, RawFingerprints> {
  const out = new Map<string, RawFingerprints>();
  // Per file position, the (fingerprint, sha256) string objects last classified there and the
  // result: images of a fleet are versions of one another and manifests parsed with one
  // StringTable share string objects, so most records repeat a pair (compared by reference)
  // and skip the 64-character comparison (core.ts's Interner does the same for fingerprints).
  // Columnar manifests (docs/manifest.md#columnar-in-memory-form) are read from their columns.
  const fileCount = (m: Manifest): number => manifestColumns(m)?.n ?? m.files.length;
  // Made for the first image whose bindings the engine did not keep (usually none).
  let last: { fp: (string | null)[]; sha: (string | undefined)[]; code: Int8Array } | null = null;
  const positionMemory = (): NonNullable<typeof last> => {
    const maxFiles = Math.max(0, ...input.images.map((x) => fileCount(x.manifest)));
    return {
      fp: new Array<string | null>(maxFiles).fill(null),
      sha: new Array<string | undefined>(maxFiles).fill(undefined),
      code: new Int8Array(maxFiles),
    };
  };
  for (const { image, manifest } of input.images) {
    // Integer codes (indices into FINGERPRINT_BINDINGS) in the per-record loop: it runs 2M times.
    const n = new Int32Array(FINGERPRINT_BINDINGS.length);
    const ex: string[][] = FINGERPRINT_BINDINGS.map(() => []);
    let none = 0;
    const cols = manifestColumns(manifest);
    const files = cols ? null : manifest.files;
    const count = fileCount(manifest);
    const pathOf = (f: number): string => (files ? files[f]!.path : cols!.pathAt(f));
    // The engine's R12 check settled most files' bindings (core.ts PreparedImage.binding) when
    // analyze() made this report from this manifest: a byte per file, and only the files it
    // left (BINDING_ASK: mismatches, fingerprints not in lower-case hex) are classified here.
    const kept = engineBindings(report, manifest, image.blockSize);
    const fromEngine = kept?.binding ?? null;
    const engineCounts = kept?.bindingCounts ?? null;
    let bindingOf: Int8Array;
    if (fromEngine !== null && engineCounts !== null && engineCounts[0] === 0) {
      // None left to classify (engineCounts[0]: BINDING_ASK files): the engine's bytes are the
      // bindings (its negative codes are none) and its counts the counts, so the files are read
      // only up to the last example each binding lists (at 2M records: no pass over them all).
      bindingOf = fromEngine;
      none = engineCounts[BINDING_NONE - BINDING_ASK]!;
      let wanted = 0;
      for (let code = 0; code < n.length; code++) {
        n[code] = engineCounts[code - BINDING_ASK]!;
        wanted += Math.min(TRUST_EXAMPLES, n[code]!);
      }
      for (let f = 0; wanted > 0 && f < count; f++) {
        const code = fromEngine[f]!;
        if (code >= 0 && ex[code]!.length < TRUST_EXAMPLES) {
          ex[code]!.push(pathOf(f));
          wanted--;
        }
      }
    } else if (fromEngine !== null) {
      bindingOf = new Int8Array(count).fill(-1);
      for (let f = 0; f < count; f++) {
        let code = fromEngine[f]!;
        if (code < 0) {
          if (code === BINDING_NONE) none++;
          if (code !== BINDING_ASK) continue;
          const rec = files?.[f];
          code = bindingCode(
            rec ? rec.fingerprint! : cols!.fingerprint[f]!,
            rec ? rec.sha256 : cols!.sha256?.[f],
          );
        }
        n[code] = n[code]! + 1;
        bindingOf[f] = code;
        if (ex[code]!.length < TRUST_EXAMPLES) ex[code]!.push(pathOf(f));
      }
    } else {
      bindingOf = new Int8Array(count).fill(-1);
      last ??= positionMemory();
      const { fp: lastFp, sha: lastSha, code: lastCode } = last;
      for (let f = 0; f < count; f++) {
        const rec = files?.[f];
        if (rec ? rec.type !== 'file' : cols!.type[f] !== TYPE_FILE) continue;
        const fingerprint = rec ? rec.fingerprint : cols!.fingerprint[f]!;
        if (fingerprintState(fingerprint, image.blockSize) !== 'ok') {
          none++;
          continue;
        }
        const fp = fingerprint!;
        const sha = rec ? rec.sha256 : cols!.sha256?.[f];
        if (lastFp[f] === fp && lastSha[f] === sha) {
          const code = lastCode[f]!;
          n[code] = n[code]! + 1;
          bindingOf[f] = code;
          if (ex[code]!.length < TRUST_EXAMPLES) ex[code]!.push(pathOf(f));
          continue;
        }
        const code = bindingCode(fp, sha);
        lastFp[f] = fp;
        lastSha[f] = sha;
        lastCode[f] = code;
        n[code] = n[code]! + 1;
        bindingOf[f] = code;
        if (ex[code]!.length < TRUST_EXAMPLES) ex[code]!.push(pathOf(f));
      }
    }
    const counts = Object.fromEntries(FINGERPRINT_BINDINGS.map((b, k) => [b, n[k]!])) as Record<
      FingerprintBinding,
      number
    >;
    const examples: Partial<Record<FingerprintBinding, string[]>> = {};
    FINGERPRINT_BINDINGS.forEach((b, k) => {
      if (ex[k]!.length > 0) examples[b] = ex[k]!;
    });
    const weakest = WEAKNESS_ORDER.find((b) => counts[b] > 0) ?? null;
    out.set(image.id, {
      imageId: image.id,
      name: image.name,
      publisher: image.publisher ?? null,
      hashed: manifest.hashed,
      counts,
      none,
      examples,
      weakest,
      bindingOf,
    });
  }
  return out;
}

function backingStateOf(a: BackingFileAttributes | null): BackingFileState {
  if (!a) return 'unknown';
  if (a.immutable === true) return 'immutable';
  if (a.mode !== undefined && (a.mode & 0o222) !== 0) return 'writable';
  if (a.immutable === false && a.mode !== undefined) return 'not-immutable';
  return 'unknown';
}

/** Builds the trust model of `report` (the analysis of `input`). Pure; `report` is not changed. */
export function buildTrustModel(report: Report, input: AnalysisInput): TrustModel {
  const ix = new TrustIndex(report);
  const ps = report.options.pageSize;
  const files = report.files;
  // Read by index from the columns (the engine's report makes no group objects for this).
  const groups = groupColumnsOf(report);
  const { memberStart, memberRows } = groups;
  const name = (id: string): string => ix.imageName.get(id) ?? id;
  // A compact file table (docs/metrics.md#compact-file-table): a row stands for its instance's
  // class. Copies read what their lead reads and hold what it holds, so the per-instance
  // figures are computed for leads and copied.
  const nInst = report.instances.length;
  const copies = rowCopies(files, nInst);
  const classes = rowClasses(files, nInst);
  const rowsOf = files.rowsOf;
  const copiesOfRow = (r: number): number => (copies === null ? 1 : copies[files.instance[r]!]!);

  // Parties (publishers, or an image whose publisher is unknown).
  const parties = new Map<string, TrustParty>();
  for (const img of report.images) {
    const key = ix.partyOfImage.get(img.id)!;
    let p = parties.get(key);
    if (!p) {
      p = {
        key,
        publisher: img.publisher ?? null,
        label: img.publisher ?? `unknown publisher of ${img.name}`,
        imageIds: [],
      };
      parties.set(key, p);
    }
    p.imageIds.push(img.id);
  }
  const partyLabel = (key: string): string => parties.get(key)?.label ?? key;

  // Cross-image reads: matrix cells, per-group bytes, per-instance reads. Integer indices
  // throughout: a fleet has hundreds of thousands of shared inodes of dozens of members.
  const nImages = report.images.length;
  const imageIndex = new Map(report.images.map((x, k) => [x.id, k]));
  const instImage = Int32Array.from(report.instances, (x) => imageIndex.get(x.imageId) ?? -1);
  const partyKeys = [...new Set(report.images.map((x) => ix.partyOfImage.get(x.id)!))];
  const partyIndex = new Map(partyKeys.map((k, n) => [k, n]));
  const imgParty = Int32Array.from(report.images, (x) => partyIndex.get(ix.partyOfImage.get(x.id)!)!);
  /** `lastDomain`: the domain index last added to `doms` (groups of one domain come together). */
  type Cell = TrustMatrixCell & { lastGroup: number; lastDomain: number; doms: Set<string> };
  const cells = new Map<number, Cell>();
  /** Bytes other images read from each group's first member. */
  const groupCrossBytes = new Float64Array(groups.count);
  /** Per group: 1 when it has a cross-image read (a flag, not a list: ~1M groups at fleet scale). */
  const isCross = new Uint8Array(groups.count);
  const reads = report.instances.map(() => new Map<number, { files: number; bytes: number }>());
  const inst = files.instance;
  let lastKey = -1;
  let lastCell: Cell | undefined;
  let lastReader = -1;
  let lastReadImage = -1;
  let lastRead: { files: number; bytes: number } | undefined;
  for (let gi = 0; gi < groups.count; gi++) {
    const from = memberStart[gi]!;
    const to = memberStart[gi + 1]!;
    if (to === from) continue;
    const s = memberRows[from]!;
    const sImg = instImage[inst[s]!]!;
    for (let k = from + 1; k < to; k++) {
      const r = memberRows[k]!;
      const rImg = instImage[inst[r]!]!;
      if (rImg === sImg || rImg < 0 || sImg < 0) continue;
      const n = copiesOfRow(r);
      const bytes = files.pagesWithout[r]! * ps * n;
      const key = imgParty[sImg]! * partyKeys.length + imgParty[rImg]!;
      // Members of one group mostly fall in one cell: one Map lookup per change of cell.
      let c = key === lastKey ? lastCell : cells.get(key);
      if (!c) {
        c = {
          supplier: partyKeys[imgParty[sImg]!]!,
          reader: partyKeys[imgParty[rImg]!]!,
          bytes: 0,
          files: 0,
          inodes: 0,
          domains: [],
          rows: [],
          examples: [],
          lastGroup: -1,
          lastDomain: -1,
          doms: new Set(),
        };
        cells.set(key, c);
      }
      lastKey = key;
      lastCell = c;
      c.bytes += bytes;
      c.files += n;
      if (c.lastGroup !== gi) {
        c.lastGroup = gi;
        c.inodes++;
        // One Set.add per change of domain, not per group (~900k cross-image groups in one cell).
        const dom = groups.domain[gi]!;
        if (dom !== c.lastDomain) {
          c.lastDomain = dom;
          c.doms.add(groups.domainLabels[dom]!);
        }
      }
      if (c.rows.length < MAX_TRUST_ROWS) c.rows.push(r);
      if (c.examples.length < TRUST_EXAMPLES) c.examples.push(ix.fileOf(r));
      isCross[gi] = 1;
      groupCrossBytes[gi] = groupCrossBytes[gi]! + bytes;
      const reader = inst[r]!;
      const one = bytes / n;
      // Consecutive reads mostly have the same reader instance and supplier image: one Map
      // lookup per change of either.
      let e = reader === lastReader && sImg === lastReadImage ? lastRead : reads[reader]!.get(sImg);
      if (e) {
        e.files++;
        e.bytes += one;
      } else {
        e = { files: 1, bytes: one };
        reads[reader]!.set(sImg, e);
      }
      lastReader = reader;
      lastReadImage = sImg;
      lastRead = e;
    }
  }
  if (rowsOf)
    rowsOf.forEach((lead, i) => {
      if (lead !== i) reads[i] = new Map([...reads[lead]!].map(([img, e]) => [img, { ...e }]));
    });
  const matrix: TrustMatrixCell[] = [...cells.values()]
    .map(({ lastGroup: _l, lastDomain: _d, doms, ...c }) => ({ ...c, domains: [...doms].sort() }))
    .sort(
      (a, b) => b.bytes - a.bytes || a.supplier.localeCompare(b.supplier) || a.reader.localeCompare(b.reader),
    );

  // Per instance: images trusted implicitly (a bit set over images per instance: the union of
  // the images of every shared inode it is a member of) and shared inodes held with others.
  const words = Math.max(1, Math.ceil(nImages / 32));
  const instBits = new Uint32Array(report.instances.length * words);
  const groupBits = new Uint32Array(words);
  const heldOf = new Int32Array(report.instances.length);
  const stamp = new Int32Array(report.instances.length).fill(-1);
  /** The member instances of the group at hand are memberInst[0 .. nMemberInst - 1]. */
  const memberInst = new Int32Array(report.instances.length);
  let heldByMany = 0;
  for (let gi = 0; gi < groups.count; gi++) {
    // A loop, not groupBits.fill(0): a builtin call per group costs more than the word or two.
    for (let w = 0; w < words; w++) groupBits[w] = 0;
    let nMemberInst = 0;
    let distinctImages = 0;
    let memberInstances = 0;
    for (let k = memberStart[gi]!; k < memberStart[gi + 1]!; k++) {
      const i = inst[memberRows[k]!]!;
      if (stamp[i] !== gi) {
        stamp[i] = gi;
        memberInst[nMemberInst++] = i;
        memberInstances += copies === null ? 1 : copies[i]!;
      }
      const img = instImage[i]!;
      if (img < 0) continue;
      const bit = 1 << (img & 31);
      if ((groupBits[img >> 5]! & bit) === 0) {
        groupBits[img >> 5]! |= bit;
        distinctImages++;
      }
    }
    if (memberInstances > 1) {
      heldByMany++;
      for (let k = 0; k < nMemberInst; k++) heldOf[memberInst[k]!]!++;
    }
    if (distinctImages < 2) continue;
    for (let k = 0; k < nMemberInst; k++) {
      const i = memberInst[k]!;
      for (let w = 0; w < words; w++) instBits[i * words + w]! |= groupBits[w]!;
    }
  }
  if (rowsOf)
    rowsOf.forEach((lead, i) => {
      if (lead === i) return;
      heldOf[i] = heldOf[lead]!;
      instBits.copyWithin(i * words, lead * words, lead * words + words);
    });
  const trustsOf = (i: number): string[] => {
    const out: string[] = [];
    for (let img = 0; img < nImages; img++)
      if (img !== instImage[i] && (instBits[i * words + (img >> 5)]! & (1 << (img & 31))) !== 0)
        out.push(report.images[img]!.id);
    return out.sort();
  };
  const instances: TrustInstance[] = report.instances.map((inst, i) => ({
    id: inst.id,
    label: inst.label,
    imageId: inst.imageId,
    domain: sharesPages(inst) ? ix.domainOfInstance[i]! : null,
    reads: [...reads[i]!]
      .map(([img, e]) => ({ imageId: report.images[img]!.id, ...e }))
      .sort((a, b) => b.bytes - a.bytes),
    trustsImplicitly: trustsOf(i),
    sharedInodesHeld: heldOf[i]!,
  }));

  // Domains: their cross-image groups counted, their member rows and bytes summed, and the
  // largest ones chosen (LargestGroups), in one pass in group order: a statement lists at most
  // LISTED_GROUPS of them, so the rest need no sorting and no list.
  const crossOfDomain = new Map<string, DomainCrossGroups>();
  let lastDomain: string | undefined;
  let lastCross: DomainCrossGroups | undefined;
  for (let gi = 0; gi < isCross.length; gi++) {
    if (isCross[gi] === 0) continue;
    const d = groups.domainLabels[groups.domain[gi]!]!;
    // Groups of one domain mostly come together: one Map lookup per change of domain.
    let c = d === lastDomain ? lastCross : crossOfDomain.get(d);
    if (!c) {
      c = {
        count: 0,
        rowCount: 0,
        bytes: 0,
        integers: true,
        largest: new LargestGroups(LISTED_GROUPS, groupCrossBytes),
      };
      crossOfDomain.set(d, c);
    }
    lastDomain = d;
    lastCross = c;
    c.count++;
    c.rowCount += groupMemberCount(groups, gi);
    const bytes = groupCrossBytes[gi]!;
    c.bytes += bytes;
    if (!Number.isInteger(bytes)) c.integers = false;
    c.largest.add(gi);
  }
  /**
   * A domain's cross-image bytes. The figure always was the sum largest first; a sum of
   * integers below 2^53 is exact in any order (every partial sum is an integer below it), so
   * the one made in group order is that figure, and only other sums are made again in order.
   */
  const crossBytesOf = (label: string, c: DomainCrossGroups): number => {
    if (c.integers && Number.isSafeInteger(c.bytes)) return c.bytes;
    const all: number[] = [];
    for (let gi = 0; gi < isCross.length; gi++)
      if (isCross[gi] === 1 && groups.domainLabels[groups.domain[gi]!] === label) all.push(gi);
    all.sort((a, b) => groupCrossBytes[b]! - groupCrossBytes[a]! || a - b);
    let sum = 0;
    for (const gi of all) sum += groupCrossBytes[gi]!;
    return sum;
  };
  const instanceById = new Map(report.instances.map((x) => [x.id, x]));
  const imageById = new Map(report.images.map((x) => [x.id, x]));
  /** Per instance: the inodeOf call that last listed it (a Set of id strings costs ~10x more). */
  const listedIn = new Int32Array(nInst).fill(-1);
  const idOf = report.instances.map((x) => x.id);
  let calls = 0;
  const inodeOf = (gi: number): CrossImageInode => {
    const from = memberStart[gi]!;
    const to = memberStart[gi + 1]!;
    const s = memberRows[from]!;
    const supplierImageId = ix.imageOfRow(s);
    const readers = new Set<string>();
    // Member instances; of a compact table, the leads of their classes (instanceClasses): the
    // list grows with classes, not instances (docs/metrics.md#compact-file-table).
    const insts: string[] = [];
    let instanceCount = 0;
    const call = calls++;
    for (let k = from; k < to; k++) {
      const m = memberRows[k]!;
      const id = ix.imageOfRow(m);
      if (id !== supplierImageId) readers.add(id);
      const i = inst[m]!;
      if (listedIn[i] === call) continue;
      listedIn[i] = call;
      insts.push(idOf[i]!);
      instanceCount += classes === null ? 1 : classes[i]!.length;
    }
    return {
      group: gi,
      file: ix.fileOf(s),
      supplierImageId,
      readerImageIds: [...readers],
      ...(classes === null ? { instanceIds: insts } : { instanceClasses: insts, instanceCount }),
      bytes: groupCrossBytes[gi]!,
      ...(groups.orderDependent[gi] === 1 ? { orderDependent: true } : {}),
    };
  };
  const domains: TrustDomain[] = report.domains.map((d) => {
    const insts = d.instanceIds.map((id) => instanceById.get(id)).filter((x) => x !== undefined);
    const imageIds = [...new Set(insts.map((x) => x.imageId))];
    const images = imageIds.map((id) => ({
      id,
      name: name(id),
      publisher: imageById.get(id)?.publisher ?? null,
    }));
    const domainParties = [
      ...new Set(imageIds.map((id) => ix.partyOfImage.get(id) ?? partyKeyOf(id, null))),
    ].sort();
    const cross = crossOfDomain.get(d.label);
    /** How many cross-image groups the domain has; `largest`: the largest of them, largest first. */
    const crossCount = cross?.count ?? 0;
    const largest = cross?.largest.sorted() ?? [];
    const crossBytes = cross ? crossBytesOf(d.label, cross) : 0;
    const nodes = largest.slice(0, MAX_TRUST_INODES).map(inodeOf);
    const statements: TrustStatement[] = [];
    const who = images.map((x) => `${x.name} (${x.publisher ?? 'publisher unknown'})`).join(', ');
    statements.push({
      rule: 'R2, R4',
      text: `Domain ${d.label} holds ${plural(insts.length, 'instance')} of ${plural(images.length, 'image')}: ${who}. Files with the same fingerprint in it share one page cache.`,
      instanceIds: insts.map((x) => x.id),
      imageIds,
    });
    if (d.unknown)
      statements.push({
        rule: 'R11',
        text: `The domain of ${insts.map((x) => x.label).join(', ')} is unknown (the kernel never prints domain_id): it is shown alone, but other images may share its domain.`,
        instanceIds: insts.map((x) => x.id),
      });
    if (domainParties.length > 1)
      statements.push({
        rule: 'R12',
        text: `Domain ${d.label} mixes ${domainParties.length} publishers (${domainParties.map(partyLabel).join(', ')}): a domain is one trusted publisher's federated file system (docs/format.md#trust), so each of them can supply pages the others read.`,
        imageIds,
      });
    if (crossCount > 0) {
      const rows: number[] = [];
      const rowCount = cross!.rowCount;
      for (let n = 0; n < largest.length && rows.length < MAX_TRUST_ROWS; n++) {
        const gi = largest[n]!;
        for (let k = memberStart[gi]!; k < memberStart[gi + 1]! && rows.length < MAX_TRUST_ROWS; k++)
          rows.push(memberRows[k]!);
      }
      statements.push({
        rule: 'R5, R12',
        text: `${plural(crossCount, 'shared inode')} in ${d.label} ${agree(crossCount, 'has', 'have')} members from more than one image: the first member's image supplies the bytes every member reads (${formatBytes(crossBytes, { exact: true })} read across images), and at run time whichever member reads first, or any live member on a cache miss, fills the pages (docs/format.md#shared-runtime).`,
        rows,
        rowCount,
        examples: largest.slice(0, TRUST_EXAMPLES).map((gi) => ix.fileOf(memberRows[memberStart[gi]!]!)),
      });
    } else if (images.length > 1) {
      statements.push({
        rule: 'R4',
        text: `No shared inode in ${d.label} has members from more than one image: no image reads another's pages.`,
      });
    }
    return {
      label: d.label,
      ...(d.unknown ? { unknown: true } : {}),
      instances: insts.map((x) => ({ id: x.id, label: x.label, imageId: x.imageId })),
      images,
      parties: domainParties,
      crossImageInodeCount: crossCount,
      crossImageBytes: crossBytes,
      crossImageInodes: nodes,
      statements,
    };
  });

  // Fingerprints per image.
  const fpRaw = fingerprintsOf(report, input);
  const domainsOfImage = new Map<string, Set<string>>();
  report.instances.forEach((inst, i) => {
    const d = ix.domainOfInstance[i];
    if (!sharesPages(inst) || d === null || d === undefined) return;
    const s = domainsOfImage.get(inst.imageId) ?? new Set<string>();
    s.add(d);
    domainsOfImage.set(inst.imageId, s);
  });
  // Rows (on any instance) of files with a weak binding, per image and binding: one pass. By
  // image index * bindings + binding code: the first MAX_TRUST_ROWS rows (all a statement
  // lists), and their number counted per instance (compact table: each row's class).
  const nBindings = FINGERPRINT_BINDINGS.length;
  const weakRows: number[][] = Array.from({ length: nImages * nBindings }, () => []);
  const weakCounts = new Float64Array(nImages * nBindings);
  // Only instances of images with a weak binding have rows to list (usually none).
  const bindingsOfInstance = report.instances.map((x) => {
    const raw = fpRaw.get(x.imageId);
    return raw && raw.weakest !== null && raw.weakest !== 'content-bound' ? raw.bindingOf : null;
  });
  const anyWeak = bindingsOfInstance.some((b) => b !== null);
  const fileCol = files.file;
  /** Per image index * bindings + binding code: how many of the image's files have it (fingerprintsOf). */
  const filesWith = new Float64Array(nImages * nBindings);
  report.images.forEach((img, k) => {
    const raw = fpRaw.get(img.id);
    if (raw) FINGERPRINT_BINDINGS.forEach((b, code) => (filesWith[k * nBindings + code] = raw.counts[b]));
  });
  /** One row of the per-row pass: listed while its list is short, counted. */
  const weakRow = (r: number, code: number, img: number, count: boolean): boolean => {
    if (code < 0 || code === CONTENT_BOUND) return false;
    const k = img * nBindings + code;
    const rows = weakRows[k]!;
    const listed = rows.length < MAX_TRUST_ROWS;
    if (listed) rows.push(r);
    if (count) weakCounts[k] = weakCounts[k]! + copiesOfRow(r);
    return listed;
  };
  /**
   * Whether rows [r, end) are instance i's files 0 .. end - r - 1 in order, as runCore lays an
   * instance's rows out: checked row by row (two array reads a row), so that any other table,
   * however its ends look, is counted row by row below.
   */
  const engineRun = (r: number, end: number, i: number): boolean => {
    if (end > inst.length) return false;
    for (let q = r; q < end; q++) if (inst[q] !== i || fileCol[q] !== q - r) return false;
    return true;
  };
  for (let r = 0; anyWeak && r < inst.length;) {
    const i = inst[r]!;
    const bindingOf = bindingsOfInstance[i];
    const img = instImage[i]!;
    const n = bindingOf?.length ?? 0;
    const end = r + n;
    // The engine's rows (core.ts runCore): an instance's rows are its image's files 0 .. n - 1 in
    // order, one each. Such a run is counted from the image's counts, and read only as far as
    // its rows still fill the lists (MAX_TRUST_ROWS each), not row by row (2M rows at 1M files).
    if (bindingOf && img >= 0 && n > 0 && (end === inst.length || inst[end] !== i) && engineRun(r, end, i)) {
      const copiesOfRun = copies === null ? 1 : copies[i]!;
      let wanted = 0;
      for (let code = 0; code < nBindings; code++) {
        if (code === CONTENT_BOUND) continue;
        const k = img * nBindings + code;
        weakCounts[k] = weakCounts[k]! + filesWith[k]! * copiesOfRun;
        wanted += Math.min(filesWith[k]!, MAX_TRUST_ROWS - weakRows[k]!.length);
      }
      for (let q = r; wanted > 0 && q < end; q++)
        if (weakRow(q, bindingOf[fileCol[q]!]!, img, false)) wanted--;
      r = end;
      continue;
    }
    // Any other table: row by row.
    for (; r < inst.length && inst[r] === i; r++)
      if (bindingOf && img >= 0) weakRow(r, bindingOf[fileCol[r]!] ?? -1, img, true);
  }
  const fingerprints: TrustImageFingerprints[] = report.images.map((img, imgIndex) => {
    const { bindingOf: _b, ...raw } = fpRaw.get(img.id) ?? {
      bindingOf: new Int8Array(0),
      imageId: img.id,
      name: img.name,
      publisher: img.publisher ?? null,
      hashed: img.hashed,
      counts: { 'content-bound': 0, 'verified-mismatch': 0, unverifiable: 0, 'publisher-defined': 0 },
      none: 0,
      examples: {},
      weakest: null,
    };
    const doms = [...(domainsOfImage.get(img.id) ?? [])].sort();
    const where =
      doms.length > 0 ? `in domain ${doms.join(', ')}` : 'in a domain (none of its mounts shares now)';
    const statements: TrustStatement[] = [];
    const texts: Record<FingerprintBinding, (n: number) => [string, string]> = {
      'content-bound': (n) => [
        'R4',
        `${plural(n, 'file')} of ${img.name} ${agree(n, 'carries', 'carry')} content-bound fingerprints (sha256 of the content, verified with --hash). To substitute content an attacker needs ${ATTACKER_NEEDS['content-bound']}.`,
      ],
      'verified-mismatch': (n) => [
        'R12',
        `${plural(n, 'file')} of ${img.name} ${agree(n, 'carries', 'carry')} a sha256 fingerprint that does not match ${agree(n, 'its', 'their')} content (forged or stale): ${where}, members with the same key may read this image's bytes. An attacker needs ${ATTACKER_NEEDS['verified-mismatch']}.`,
      ],
      unverifiable: (n) => [
        'R4, R12',
        `${plural(n, 'file')} of ${img.name} ${agree(n, 'carries', 'carry')} sha256-form fingerprints that were not checked (not scanned with --hash). To substitute content an attacker needs ${ATTACKER_NEEDS.unverifiable}.`,
      ],
      'publisher-defined': (n) => [
        'R4, R12',
        `${plural(n, 'file')} of ${img.name} ${agree(n, 'carries', 'carry')} publisher-defined fingerprints (not sha256 digests, e.g. serials): they mean what the publisher says. To substitute content ${where} an attacker needs ${ATTACKER_NEEDS['publisher-defined']}.`,
      ],
    };
    for (const b of WEAKNESS_ORDER) {
      const n = raw.counts[b];
      if (n === 0) continue;
      const [rule, text] = texts[b](n);
      const st: TrustStatement = { rule, text, imageIds: [img.id], binding: b };
      if (b !== 'content-bound') {
        const k = imgIndex * nBindings + FINGERPRINT_BINDINGS.indexOf(b);
        st.rows = weakRows[k]!;
        st.rowCount = weakCounts[k]!;
        st.examples = (raw.examples[b] ?? []).map((p) => `${img.name}:${p}`);
      }
      statements.push(st);
    }
    if (raw.none > 0)
      statements.push({
        rule: 'R4',
        text: `${plural(raw.none, 'regular file')} of ${img.name} ${agree(raw.none, 'has', 'have')} no usable fingerprint: ${agree(raw.none, 'it stays', 'they stay')} private and nothing else can supply ${agree(raw.none, 'its', 'their')} pages.`,
        imageIds: [img.id],
      });
    return { ...raw, domains: doms, statements };
  });

  // Lifetime: members keep pages alive; backing files; loop devices.
  // File-backed mounts, and loop devices whose backing file a collector recorded: either way the
  // image bytes come from a file whose writers can change what every member reads.
  const backingFiles = report.instances
    .filter(
      (x) =>
        (x.backing === 'file' || (LOOP_DEVICE_RE.test(x.source) && x.backingFile !== undefined)) &&
        x.mountError === undefined &&
        !x.notMounted,
    )
    .map((x) => {
      const attributes = x.backingFile ?? null;
      return { instanceId: x.id, source: x.source, attributes, state: backingStateOf(attributes) };
    });
  const loopDevices = report.instances
    .filter(
      (x) =>
        x.backing === 'bdev' && LOOP_DEVICE_RE.test(x.source) && x.mountError === undefined && !x.notMounted,
    )
    .map((x) => ({ instanceId: x.id, source: x.source, directIo: x.loopDirectIo ?? null }));
  const lifeStatements: TrustStatement[] = [];
  lifeStatements.push({
    rule: 'docs/format.md#shared-runtime, R9',
    text: `${plural(heldByMany, 'shared inode')} ${agree(heldByMany, 'has', 'have')} members on more than one instance: their pages stay in memory while any member instance is mounted, and after the instance that read them first unmounts, cache misses are filled through another live member.`,
  });
  const holders = instances.filter((x) => x.sharedInodesHeld > 0);
  if (holders.length > 0)
    lifeStatements.push({
      rule: 'docs/format.md#shared-runtime',
      text: `Instances that keep shared pages alive: ${holders.map((x) => `${x.label} (${plural(x.sharedInodesHeld, 'shared inode')})`).join(', ')}.`,
      instanceIds: holders.map((x) => x.id),
    });
  const byState = (s: BackingFileState) => backingFiles.filter((b) => b.state === s);
  if (byState('writable').length > 0)
    lifeStatements.push({
      rule: 'docs/format.md#trust',
      text: `Backing files of ${byState('writable')
        .map((b) => b.instanceId)
        .join(
          ', ',
        )} are writable: "blobs are immutable" does not hold, whoever can write them changes what those mounts (and every member reading through them) see.`,
      instanceIds: byState('writable').map((b) => b.instanceId),
    });
  if (byState('not-immutable').length > 0)
    lifeStatements.push({
      rule: 'docs/format.md#trust',
      text: `Backing files of ${byState('not-immutable')
        .map((b) => b.instanceId)
        .join(', ')} have no write bit but are not immutable: their owner or root can change them.`,
      instanceIds: byState('not-immutable').map((b) => b.instanceId),
    });
  if (byState('unknown').length > 0)
    lifeStatements.push({
      rule: 'docs/format.md#trust',
      text: `Owner, mode and immutable attribute of the backing files of ${plural(byState('unknown').length, 'file-backed instance')} (${byState(
        'unknown',
      )
        .map((b) => b.instanceId)
        .join(', ')}) are not recorded: whether the blobs are immutable is unknown.`,
      instanceIds: byState('unknown').map((b) => b.instanceId),
    });
  const noDio = loopDevices.filter((l) => l.directIo !== true);
  if (noDio.length > 0)
    lifeStatements.push({
      rule: 'R8',
      text: `Loop devices ${noDio.map((l) => `${l.source} (${l.instanceId})`).join(', ')} ${noDio.every((l) => l.directIo === false) ? 'run' : 'may run'} without direct I/O: the backing file's own page cache also holds the image bytes, outside the domain.`,
      instanceIds: noDio.map((l) => l.instanceId),
    });
  const lifetime: TrustLifetime = {
    sharedInodesHeldByMany: heldByMany,
    backingFiles,
    loopDevices,
    statements: lifeStatements,
  };

  const boundaryBreaks: TrustBoundaryBreak[] = report.findings
    .filter((f) => BOUNDARY_BREAK_CODES.includes(f.code as string))
    .map((f) => ({
      code: f.code as string,
      severity: f.severity,
      message: f.message,
      domains: f.domains ?? [],
      imageIds: f.imageIds ?? [],
      instanceIds: f.instanceIds ?? [],
      rows: f.rows ?? [],
      rowCount: f.rowCount ?? f.rows?.length ?? 0,
    }));

  return {
    version: TRUST_MODEL_VERSION,
    parties: [...parties.values()],
    domains,
    matrix,
    instances,
    fingerprints,
    lifetime,
    boundaryBreaks,
  };
}

/** Sets `report.trust` to the trust model of the analysis of `input`, and returns the report. */
export function withTrust(report: Report, input: AnalysisInput): Report {
  report.trust = buildTrustModel(report, input);
  return report;
}
