/**
 * The sharing core (spec §8.4): one pass over every (instance, file) pair in a fixed order,
 * then one pass over every key to apply the first member's size (R5) and aops class (R6).
 * Flat typed arrays and Maps keyed by numbers, so 2M records stay well under a second.
 *
 * Order ("first member"): instances in input order, and within an instance the manifest's
 * file order (sorted by path bytes). The kernel's real order is the run-time order in which
 * inodes are first loaded; where that can change a result the key is marked order-dependent
 * and the best and worst first members are computed key by key.
 */
import type { FileRecord, Manifest } from '@sharemap/erofs';
import type { AopsClass, FileStatus, FileTable, ReportInstance, SharedGroup } from '../report.js';
import { pagesOf, workingSetPages } from './accounting.js';
import type { ImageEntry } from './input.js';
import { isMounted } from './input.js';
import { fingerprintDigest, fingerprintMatchesSha256, fingerprintState } from './keys.js';
import type { FingerprintState } from './keys.js';

export const AOPS_CLASSES: readonly AopsClass[] = ['compressed', 'block', 'file-backed'];
const FP_STATES: readonly FingerprintState[] = ['ok', 'missing', 'empty', 'oversized'];
/** Largest fingerprints x domains key space looked up through a dense Int32Array (64 MiB). */
const DENSE_KEY_LIMIT = 1 << 24;

/** One image's files as flat arrays, computed once however often the image is mounted. */
export interface PreparedImage {
  index: number;
  entry: ImageEntry;
  manifest: Manifest;
  files: FileRecord[];
  n: number;
  regular: Uint8Array;
  compressed: Uint8Array;
  size: Float64Array;
  nid: Float64Array;
  /** Working-set pages of each regular file (R7 + fraction). */
  pages: Int32Array;
  /** Interned fingerprint id, or -1 when the file cannot share (R1, R4). */
  fpId: Int32Array;
  /** Index into FP_STATES. */
  fpState: Uint8Array;
  /** 1 when nlink > 1 (a possible hard link, R10). */
  multiLink: Uint8Array;
  /** Interned content identity (keys.contentIdentity) of non-empty regular files, -1 unknown. */
  contentId: Int32Array;
  /** Files whose sha256 fingerprint does not match their sha256 (R12). */
  mismatched: number[];
  /** Files whose fingerprint is not of the sha256 form (serials...). */
  unverifiable: number[];
  regularFiles: number;
  fingerprintedFiles: number;
}

export interface Prepared {
  images: PreparedImage[];
  byId: Map<string, PreparedImage>;
  /** Interned fingerprint values (hex, compared as given; manifests use lower case), by fpId. */
  fingerprints: string[];
  /** By fpId: 1 when the value has the mkfs form `sha256:` + 32 bytes (checked once per distinct value). */
  fpIsSha256: Uint8Array;
  /** By fpId: the digest (hex) such a value claims, else null. */
  fpDigest: (string | null)[];
}

export function fingerprintStateOf(img: PreparedImage, file: number): FingerprintState {
  return FP_STATES[img.fpState[file]!]!;
}

export function prepareImages(
  images: readonly { image: ImageEntry; manifest: Manifest }[],
  pageSize: number,
  fraction: number,
): Prepared {
  const fpIndex = new Map<string, number>();
  const fingerprints: string[] = [];
  const fpDigest: (string | null)[] = [];
  const contentIndex = new Map<string, number>();
  const byId = new Map<string, PreparedImage>();
  const out: PreparedImage[] = [];
  for (const { image, manifest } of images) {
    if (byId.has(image.id)) throw new Error(`duplicate image id ${JSON.stringify(image.id)}`);
    const files = manifest.files;
    const n = files.length;
    const p: PreparedImage = {
      index: out.length,
      entry: image,
      manifest,
      files,
      n,
      regular: new Uint8Array(n),
      compressed: new Uint8Array(n),
      size: new Float64Array(n),
      nid: new Float64Array(n),
      pages: new Int32Array(n),
      fpId: new Int32Array(n).fill(-1),
      fpState: new Uint8Array(n),
      multiLink: new Uint8Array(n),
      contentId: new Int32Array(n).fill(-1),
      mismatched: [],
      unverifiable: [],
      regularFiles: 0,
      fingerprintedFiles: 0,
    };
    for (let f = 0; f < n; f++) {
      const rec = files[f]!;
      p.nid[f] = rec.nid;
      const state = fingerprintState(rec.fingerprint, image.blockSize);
      p.fpState[f] = FP_STATES.indexOf(state);
      if (rec.type !== 'file') continue;
      p.regular[f] = 1;
      if (rec.nlink > 1) p.multiLink[f] = 1;
      p.regularFiles++;
      p.size[f] = rec.size;
      p.pages[f] = workingSetPages(pagesOf(rec.size, pageSize), fraction);
      p.compressed[f] = rec.layout === 'compressed_full' || rec.layout === 'compressed_compact' ? 1 : 0;
      const sha = rec.sha256;
      if (state === 'ok') {
        p.fingerprintedFiles++;
        const fp = rec.fingerprint!;
        let id = fpIndex.get(fp);
        if (id === undefined) {
          id = fingerprints.length;
          fingerprints.push(fp);
          fpIndex.set(fp, id);
          fpDigest.push(fingerprintDigest(fp));
        }
        p.fpId[f] = id;
        const digest = fpDigest[id]!;
        if (digest === null) p.unverifiable.push(f);
        else if (sha !== undefined && !fingerprintMatchesSha256(fp, sha)) p.mismatched.push(f);
      }
      if (rec.size > 0) {
        const id = p.fpId[f]!;
        const content = sha ?? (id >= 0 ? (fpDigest[id] ?? 'fp:' + fingerprints[id]!) : null);
        if (content !== null) {
          let c = contentIndex.get(content);
          if (c === undefined) contentIndex.set(content, (c = contentIndex.size));
          p.contentId[f] = c;
        }
      }
    }
    byId.set(image.id, p);
    out.push(p);
  }
  const fpIsSha256 = new Uint8Array(fingerprints.length);
  for (let k = 0; k < fingerprints.length; k++) fpIsSha256[k] = fpDigest[k] === null ? 0 : 1;
  return { images: out, byId, fingerprints, fpIsSha256, fpDigest };
}

/** Which domain each instance shares in: index into `labels`, -1 when it does not share. */
export interface DomainAssignment {
  domainOf: Int32Array;
  labels: string[];
  unknown: boolean[];
}

export interface CoreResult {
  files: FileTable;
  groups: SharedGroup[];
  /** Image of each instance (index into prepared.images), -1 when unknown. */
  imageOf: Int32Array;
  pagesWithout: number;
  pagesWith: number;
  /** pagesWith for the luckiest / unluckiest first member of every order-dependent key. */
  orderBestWith: number;
  orderWorstWith: number;
  orderDependentKeys: number;
  /** Rows of order-dependent keys' candidates. */
  orderRows: number[];
}

/** Runs the sharing rules for one domain assignment. */
export function runCore(
  prepared: Prepared,
  instances: readonly ReportInstance[],
  domains: DomainAssignment,
): CoreResult {
  const nInst = instances.length;
  const nDomains = Math.max(1, domains.labels.length);
  const imageOf = new Int32Array(nInst).fill(-1);
  let totalRows = 0;
  for (let i = 0; i < nInst; i++) {
    const img = prepared.byId.get(instances[i]!.imageId);
    if (img) {
      imageOf[i] = img.index;
      totalRows += img.n;
    }
  }
  // Preallocated packed arrays (plain arrays: the report must stay JSON-serialisable).
  const files: FileTable = {
    instance: new Array<number>(totalRows).fill(0),
    file: new Array<number>(totalRows).fill(0),
    status: new Array<FileStatus>(totalRows).fill('not-mounted'),
    group: new Array<number>(totalRows).fill(-1),
    pagesWithout: new Array<number>(totalRows).fill(0),
    pagesWith: new Array<number>(totalRows).fill(0),
    size: new Array<number>(totalRows).fill(0),
    hardlinks: { row: [], primary: [] },
  };
  const {
    instance: colInstance,
    file: colFile,
    status: colStatus,
    pagesWithout: colWithout,
    pagesWith: colWith,
    size: colSize,
  } = files;
  const rowNext = new Int32Array(totalRows).fill(-1);
  const rowAops = new Uint8Array(totalRows);
  // Key -> slot: a dense table when the key space is small (the common case), else a Map.
  const keySpace = prepared.fingerprints.length * nDomains;
  const dense = keySpace <= DENSE_KEY_LIMIT ? new Int32Array(keySpace).fill(-1) : null;
  const slotOf = new Map<number, number>();
  const slotHead: number[] = [];
  const slotTail: number[] = [];
  const slotFp: number[] = [];
  const slotDomain: number[] = [];

  let row = 0;
  for (let i = 0; i < nInst; i++) {
    const inst = instances[i]!;
    const ii = imageOf[i]!;
    if (ii < 0) continue;
    const img = prepared.images[ii]!;
    const mounted = isMounted(inst);
    const dom = domains.domainOf[i]!;
    // aops class code of uncompressed files on this instance (R6): 1 block, 2 file-backed.
    const plainAops = inst.backing === 'bdev' ? 1 : 2;
    const nidRow = new Map<number, number>();
    const { regular, nid, pages, fpId, compressed, multiLink, size: sizes } = img;
    for (let f = 0; f < img.n; f++, row++) {
      colInstance[row] = i;
      colFile[row] = f;
      const size = sizes[f]!;
      colSize[row] = size;
      if (!mounted) continue; // 'not-mounted', 0 pages
      if (regular[f] === 0) {
        colStatus[row] = 'private-not-regular';
        continue;
      }
      if (multiLink[f] === 1) {
        const primary = nidRow.get(nid[f]!);
        if (primary !== undefined) {
          colStatus[row] = 'hardlink';
          files.hardlinks.row.push(row);
          files.hardlinks.primary.push(primary);
          continue;
        }
        nidRow.set(nid[f]!, row);
      }
      const pw = pages[f]!;
      colWithout[row] = pw;
      colWith[row] = pw;
      const fp = fpId[f]!;
      if (dom < 0) colStatus[row] = 'private-no-inode-share';
      else if (fp < 0) colStatus[row] = 'private-no-fingerprint';
      else {
        // Key = fingerprint bytes ++ domain (spec §8.4), as (fpId, domain index).
        colStatus[row] = 'shared-alone';
        rowAops[row] = compressed[f] === 1 ? 0 : plainAops;
        const key = fp * nDomains + dom;
        const found = dense !== null ? dense[key]! : (slotOf.get(key) ?? -1);
        const slot = found;
        if (slot < 0) {
          if (dense !== null) dense[key] = slotHead.length;
          else slotOf.set(key, slotHead.length);
          slotHead.push(row);
          slotTail.push(row);
          slotFp.push(fp);
          slotDomain.push(dom);
        } else {
          rowNext[slotTail[slot]!] = row;
          slotTail[slot] = row;
        }
      }
    }
  }

  // Pass 2: per key, the first member fixes aops (checked first, as the kernel does) and size.
  const groups: SharedGroup[] = [];
  const orderRows: number[] = [];
  let orderBestDelta = 0;
  let orderWorstDelta = 0;
  let orderDependentKeys = 0;
  const { status, pagesWith, pagesWithout, group } = files;
  const sizes = files.size;
  for (let s = 0; s < slotHead.length; s++) {
    const first = slotHead[s]!;
    if (rowNext[first] === -1) continue; // alone: stays 'shared-alone'
    const fa = rowAops[first]!;
    const fs = sizes[first]!;
    const members = [first];
    const rejected: number[] = [];
    for (let r = rowNext[first]!; r !== -1; r = rowNext[r]!) {
      if (rowAops[r] !== fa) {
        status[r] = 'private-aops-mismatch';
        rejected.push(r);
      } else if (sizes[r] !== fs) {
        status[r] = 'private-size-mismatch';
        rejected.push(r);
      } else {
        members.push(r);
        status[r] = 'shared';
        pagesWith[r] = 0;
      }
    }
    if (members.length > 1) status[first] = 'shared';
    const g: SharedGroup = {
      fingerprint: prepared.fingerprints[slotFp[s]!]!,
      domain: domains.labels[slotDomain[s]!]!,
      aops: AOPS_CLASSES[fa]!,
      size: fs,
      pages: pagesWithout[first]!,
      members,
      rejected,
    };
    if (rejected.length > 0) {
      // Candidates span several (aops, size) classes: whichever class reads first wins.
      const classes = new Map<string, { count: number; pages: number }>();
      for (let r = first; r !== -1; r = rowNext[r]!) {
        const k = `${rowAops[r]}:${sizes[r]}`;
        const c = classes.get(k);
        if (c) c.count++;
        else classes.set(k, { count: 1, pages: pagesWithout[r]! });
        if (orderRows.length < 10_000) orderRows.push(r);
      }
      const actual = (members.length - 1) * g.pages;
      let best = actual;
      let worst = actual;
      for (const c of classes.values()) {
        const saving = (c.count - 1) * c.pages;
        if (saving > best) best = saving;
        if (saving < worst) worst = saving;
      }
      orderBestDelta += best - actual;
      orderWorstDelta += actual - worst;
      orderDependentKeys++;
      g.orderDependent = true;
    }
    const gi = groups.length;
    groups.push(g);
    for (const r of members) group[r] = gi;
    for (const r of rejected) group[r] = gi;
  }

  let pagesWithoutTotal = 0;
  let pagesWithTotal = 0;
  for (let r = 0; r < row; r++) {
    pagesWithoutTotal += pagesWithout[r]!;
    pagesWithTotal += pagesWith[r]!;
  }
  return {
    files,
    groups,
    imageOf,
    pagesWithout: pagesWithoutTotal,
    pagesWith: pagesWithTotal,
    orderBestWith: pagesWithTotal - orderBestDelta,
    orderWorstWith: pagesWithTotal + orderWorstDelta,
    orderDependentKeys,
    orderRows,
  };
}
