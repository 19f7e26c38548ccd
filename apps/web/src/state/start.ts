/**
 * The start page's workflow as a store slice: the files the user dropped (images, their extra
 * devices, mount configurations, page-cache residency), the pasted mount configuration and
 * residency text, and
 * analyse(): upload or scan each input, then create the report (docs/web.md "Start").
 * OCI archives (docker save, OCI layout tar, rootfs tar: told from the bytes) are predicted
 * in the browser when larger than `browserArchivesAbove` (or in browser mode), else sent to
 * POST /api/archives; either way the report holds their predicted manifests (docs/oci.md).
 *
 * Everything the workflow talks to comes in through StartDeps (the HTTP API and the in-browser
 * scan), so the slice runs in Node against a real server (start.test.ts); the view only renders
 * this state and calls these actions.
 *
 * An input that was sent once keeps the server's id: analysing again after removing a failed
 * file sends only what is new or changed, never the others again.
 */
import type { StateCreator } from 'zustand';
import {
  detectFormat,
  detectResidencyFormat,
  formatBytes,
  snapshotMountConfigText,
  type MountFormat,
  type ResidencyFormat,
} from '@sharemap/sharing';
import type { api as httpApi, ReportCreated, ReportRequest } from '../api/client';
import type { PredictedNdjson } from '../lib/archive';
import { headlineOf } from '../lib/head';
import { errorText, placeOf, type ErrorPlace } from '../lib/errors';

export type InputKind = 'image' | 'device' | 'mounts' | 'residency' | 'archive';
export type ArchiveModel = 'flattened' | 'layers';

/**
 * Default of `browserArchivesAbove`: OCI archives larger than this are predicted in the browser
 * even in server mode (images can be gigabytes: sending them costs more than reading them here).
 */
export const BROWSER_ARCHIVES_ABOVE_BYTES = 256 * 1024 ** 2;
export type Phase = 'waiting' | 'uploading' | 'scanning' | 'ready' | 'failed';
export type ScanMode = 'server' | 'browser';
/** A mount format the user chose, or `auto`: the parser's detection (detectFormat) decides. */
export type FormatChoice = MountFormat | 'auto';

/** What a sent input became on the server (the ids a report request names). */
export interface InputRefs {
  images: string[];
  manifests: string[];
  mountConfigs: string[];
  residency: string[];
}

export interface StartItem {
  key: number;
  file: File;
  kind: InputKind;
  /** For devices: key of the image they belong to (-1: none). */
  of: number;
  phase: Phase;
  /** 0..1 upload progress. */
  progress: number;
  detail: string;
  error: string;
  /** Mount configurations: the format detected from name and content (null: not known yet / undetectable). */
  detected: MountFormat | null;
  /** Mount configurations: the format the user chose. */
  format: FormatChoice;
  /** Set once the input is on the server (phase `ready`): reused by the next analyse(). */
  refs: InputRefs | null;
}

/** A parse error of the pasted configuration, placed at its line and column. */
export interface PasteError {
  message: string;
  place: ErrorPlace | null;
}

export interface StartState {
  items: StartItem[];
  mode: ScanMode;
  pasted: string;
  pastedFormat: FormatChoice;
  pasteError: PasteError | null;
  /** The pasted configuration as last sent (text, format, server id): not sent again while unchanged. */
  pastedSent: { text: string; format: FormatChoice; id: string } | null;
  /** Pasted page-cache residency (fincore, vmtouch, pcstat, access list, host snapshot: docs/working-set.md). */
  pastedResidency: string;
  residencyPasteError: PasteError | null;
  /** The pasted residency as last sent, with what the server made of it: not sent again while unchanged. */
  pastedResidencySent: { text: string; refs: InputRefs } | null;
  busy: boolean;
  /** A failure of the whole analysis (not of one input). */
  error: string;
  demo: { id: string; headline: string } | null;
  demoError: string;
  /** The last report created here, with the mounts it could not resolve (shown on the report). */
  created: ReportCreated | null;
  /** OCI archives: one EROFS image per OCI image (flattened) or per distinct layer (docs/oci.md). */
  archiveModel: ArchiveModel;
  /** OCI archives larger than this many bytes are predicted in the browser in server mode too. */
  browserArchivesAbove: number;
}

export interface StartSlice {
  start: StartState;
  addFiles(files: Iterable<File>): Promise<void>;
  removeItem(key: number): void;
  /** Change what the user may change about an input; a changed input is sent again. */
  changeItem(key: number, patch: Partial<Pick<StartItem, 'kind' | 'of' | 'format'>>): void;
  setPasted(text: string): void;
  setPastedFormat(format: FormatChoice): void;
  setPastedResidency(text: string): void;
  setMode(mode: ScanMode): void;
  setArchiveModel(model: ArchiveModel): void;
  /** Bytes above which archives are predicted in the browser; a negative or non-finite value is refused. */
  setBrowserArchivesAbove(bytes: number): void;
  /** Fetch the demo report's headline (for the start page). */
  loadDemo(): Promise<void>;
  /** The demo report's id, or null (the error is in `demoError`). */
  openDemo(): Promise<string | null>;
  /** Send every input not sent yet, then create the report; its id, or null on failure. */
  analyse(): Promise<string | null>;
}

type Api = typeof httpApi;
export type StartApi = Pick<
  Api,
  | 'uploadImage'
  | 'uploadArchive'
  | 'waitForScan'
  | 'mountConfig'
  | 'residency'
  | 'manifest'
  | 'createReport'
  | 'demo'
  | 'summary'
>;

export interface StartDeps {
  api: StartApi;
  /** Scan an image (with its devices) here and return its manifest as NDJSON. */
  scanInBrowser(
    file: File,
    devices: File[],
    onProgress: (files: number, bytes: number) => void,
  ): Promise<Blob>;
  /** Predict an OCI archive's manifests here (lib/archive.ts in a worker). */
  predictInBrowser(
    file: File,
    model: ArchiveModel,
    onProgress: (bytes: number) => void,
  ): Promise<PredictedNdjson>;
}

/** Where an OCI archive is predicted: here in browser mode or above the size, else on the server. */
export function archivePlace(size: number, mode: ScanMode, browserAbove: number): ScanMode {
  return mode === 'browser' || size > browserAbove ? 'browser' : 'server';
}

/**
 * Whether a file's bytes are an OCI archive or tar (a tar header at 0, or a gzip/zstd stream
 * holding one), as the CLI's isArchive decides. The OCI code is imported lazily: it is not part
 * of the page's initial JS.
 */
export async function looksLikeArchive(f: Blob): Promise<boolean> {
  const { compressionOf, looksLikeTar } = await import('@sharemap/oci');
  const head = new Uint8Array(await f.slice(0, 512).arrayBuffer());
  const c = compressionOf(head);
  if (c === 'zstd') return true;
  if (c === 'none') return looksLikeTar(head);
  // gzip: a gzip tar, or a gzip text (residency snapshot)? The first decompressed block says.
  try {
    const reader = f.stream().pipeThrough(new DecompressionStream('gzip')).getReader();
    const got = new Uint8Array(512);
    let n = 0;
    while (n < 512) {
      const r = await reader.read();
      if (r.done) break;
      const take = r.value.subarray(0, 512 - n);
      got.set(take, n);
      n += take.length;
    }
    void reader.cancel().catch(() => undefined);
    return looksLikeTar(got.subarray(0, n));
  } catch {
    return false;
  }
}

/** The kind a file's name suggests (the user can change it). */
export function kindOf(name: string): InputKind {
  if (/\.(?:img|erofs|ero)$/i.test(name)) return 'image';
  if (/\.(?:blob|tar|dev)$/i.test(name)) return 'device';
  if (/(?:snapshot|fincore|vmtouch|pcstat|access)[^/]*$|\.gz$/i.test(name)) return 'residency';
  return 'mounts';
}

/** A dropped text file, gunzipped when it starts with the gzip magic (host snapshots are gzip). */
export async function textOf(f: Blob): Promise<string> {
  const head = new Uint8Array(await f.slice(0, 2).arrayBuffer());
  if (head[0] !== 0x1f || head[1] !== 0x8b) return f.text();
  return new Response(f.stream().pipeThrough(new DecompressionStream('gzip'))).text();
}

/** The mount format the parser would pick for this text (null: none fits). */
export function detectedMountFormat(text: string, fileName?: string): MountFormat | null {
  if (text.trim() === '') return null;
  try {
    return detectFormat(text, fileName);
  } catch {
    return null;
  }
}

/** The residency format the parser would pick for this text (null: none fits). */
export function detectedResidencyFormat(text: string): ResidencyFormat | null {
  return text.trim() === '' ? null : residencyFormatOf(text, 'residency');
}

/** The residency format of a text, or null (access lists only when the kind says residency: fstab lines also start with "/"). */
function residencyFormatOf(text: string, chosen: InputKind): ResidencyFormat | null {
  try {
    const f = detectResidencyFormat(text);
    return f === 'access-list' && chosen !== 'residency' ? null : f;
  } catch {
    return null;
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const NO_REFS = (): InputRefs => ({ images: [], manifests: [], mountConfigs: [], residency: [] });

/** Back to `waiting`: the input changed, so what the server has for it no longer applies. */
const unsent = { phase: 'waiting', progress: 0, detail: '', error: '', refs: null } as const;

let nextKey = 1;

export function createStartSlice(deps: StartDeps): StateCreator<StartSlice> {
  return (set, get) => {
    const patchStart = (patch: Partial<StartState>) => set((s) => ({ start: { ...s.start, ...patch } }));
    const update = (key: number, patch: Partial<StartItem>) =>
      set((s) => ({
        start: { ...s.start, items: s.start.items.map((x) => (x.key === key ? { ...x, ...patch } : x)) },
      }));
    /** The image a device belongs to must be sent again with its new set of devices. */
    const resetImage = (items: StartItem[], imageKey: number) =>
      items.map((x) => (x.key === imageKey && x.kind === 'image' ? { ...x, ...unsent } : x));

    /** Send one input (not a device: those go with their image); what the server made of it. */
    async function send(it: StartItem): Promise<InputRefs> {
      const refs = NO_REFS();
      const { api } = deps;
      if (it.kind === 'mounts' || it.kind === 'residency') {
        update(it.key, { phase: 'uploading' });
        const text = await textOf(it.file);
        const format = residencyFormatOf(text, it.kind);
        if (format !== null) {
          const detail = await sendResidency(it.file.name, text, format, refs);
          update(it.key, { phase: 'ready', progress: 1, detail, refs });
          return refs;
        }
        if (it.kind === 'residency')
          throw new Error('not a residency format (fincore, vmtouch, pcstat, access list, host snapshot)');
        const mc = await api.mountConfig(it.file.name, text, it.format === 'auto' ? undefined : it.format);
        refs.mountConfigs.push(mc.id);
        const warnings = mc.warnings.length ? `; ${mc.warnings.map((w) => w.message).join('; ')}` : '';
        update(it.key, {
          phase: 'ready',
          progress: 1,
          detail: `${mc.format}, ${plural(mc.entries.length, 'mount')}${warnings}`,
          refs,
        });
        return refs;
      }
      if (it.kind === 'archive') return sendArchive(it, refs);
      const devices = get()
        .start.items.filter((d) => d.kind === 'device' && d.of === it.key)
        .map((d) => d.file);
      if (get().start.mode === 'browser') {
        update(it.key, { phase: 'scanning', detail: 'scanning in your browser' });
        const ndjson = await deps.scanInBrowser(it.file, devices, (files, bytes) =>
          update(it.key, {
            detail: `scanning in your browser: ${files} files, ${formatBytes(bytes)} hashed`,
          }),
        );
        update(it.key, {
          phase: 'uploading',
          detail: `uploading the manifest (${formatBytes(ndjson.size)}); the image stays here`,
        });
        const m = await api.manifest(it.file.name, ndjson);
        refs.manifests.push(m.id);
        update(it.key, {
          phase: 'ready',
          progress: 1,
          detail: `manifest of ${m.fileCount} files (scanned in the browser)`,
          refs,
        });
        return refs;
      }
      update(it.key, { phase: 'uploading' });
      const img = await api.uploadImage(it.file, devices, (loaded, total) =>
        update(it.key, {
          progress: total ? loaded / total : 0,
          detail: `${formatBytes(loaded)} of ${formatBytes(total)}`,
        }),
      );
      update(it.key, { phase: 'scanning', progress: 1, detail: 'scanning on the server' });
      const done = await api.waitForScan(img.id, (p) => {
        if (p.progress) update(it.key, { detail: `scanning on the server: ${p.progress.files} files` });
      });
      if (done.status === 'failed') throw done.error ?? new Error('scan failed');
      refs.images.push(img.id);
      update(it.key, {
        phase: 'ready',
        detail: `${done.manifest?.fileCount ?? '?'} files${done.deduplicated ? ' (already scanned)' : ''}`,
        refs,
      });
      return refs;
    }

    /** An OCI archive: predicted here (only the manifests are sent) or sent to POST /api/archives. */
    async function sendArchive(it: StartItem, refs: InputRefs): Promise<InputRefs> {
      const { api } = deps;
      const { mode, browserArchivesAbove, archiveModel } = get().start;
      const plural2 = (n: number) => plural(n, 'predicted manifest');
      if (archivePlace(it.file.size, mode, browserArchivesAbove) === 'browser') {
        update(it.key, { phase: 'scanning', detail: 'predicting in your browser' });
        const p = await deps.predictInBrowser(it.file, archiveModel, (bytes) =>
          update(it.key, {
            progress: it.file.size ? Math.min(1, bytes / it.file.size) : 0,
            detail: `predicting in your browser: ${formatBytes(bytes)} of layers read`,
          }),
        );
        update(it.key, {
          phase: 'uploading',
          detail: `uploading ${plural2(p.manifests.length)}; the archive stays here`,
        });
        let files = 0;
        for (const m of p.manifests) {
          const info = await api.manifest(m.name, m.ndjson);
          refs.manifests.push(info.id);
          files += info.fileCount;
        }
        update(it.key, {
          phase: 'ready',
          progress: 1,
          detail: `${p.kind}: ${plural2(p.manifests.length)} (${archiveModel}), ${files} files, predicted in the browser`,
          refs,
        });
        return refs;
      }
      update(it.key, { phase: 'uploading', detail: 'uploading the archive to the server' });
      const a = await api.uploadArchive(it.file, archiveModel, (loaded, total) =>
        update(it.key, {
          progress: total ? loaded / total : 0,
          detail: `${formatBytes(loaded)} of ${formatBytes(total)}; the server predicts it`,
        }),
      );
      refs.manifests.push(...a.manifests.map((m) => m.id));
      const files = a.manifests.reduce((n, m) => n + m.fileCount, 0);
      update(it.key, {
        phase: 'ready',
        progress: 1,
        detail: `${a.kind}: ${plural2(a.manifests.length)} (${a.model}), ${files} files, predicted on the server`,
        refs,
      });
      return refs;
    }

    /** Residency text (docs/working-set.md) to the server, its ids into `refs`; a host snapshot also holds its mount table. */
    async function sendResidency(
      name: string,
      text: string,
      format: ResidencyFormat,
      refs: InputRefs,
    ): Promise<string> {
      const res = await deps.api.residency(name, text);
      refs.residency.push(res.id);
      let detail = `residency (${res.format}), ${res.records} files, ${res.residentPages} resident pages`;
      if (format === 'host-snapshot') {
        const mc = await deps.api.mountConfig(
          name,
          snapshotMountConfigText(JSON.parse(text) as { mounts: { files: unknown[] }[] }),
        );
        refs.mountConfigs.push(mc.id);
        detail += `; ${plural(mc.entries.length, 'mount')}`;
      }
      return detail;
    }

    /**
     * The pasted residency's server ids (sent again only when the text changed). A text of no
     * residency format is still sent: the server's error names the line it could not read.
     */
    async function sendPastedResidency(): Promise<InputRefs | null> {
      const { pastedResidency: text, pastedResidencySent: sent } = get().start;
      if (!text.trim()) return null;
      if (sent && sent.text === text) return sent.refs;
      const refs = NO_REFS();
      await sendResidency('pasted-residency', text, detectedResidencyFormat(text) ?? 'access-list', refs);
      patchStart({ pastedResidencySent: { text, refs } });
      return refs;
    }

    /** The pasted configuration's server id (sent again only when text or format changed). */
    async function sendPasted(): Promise<string | null> {
      const { pasted: text, pastedFormat: format, pastedSent } = get().start;
      if (!text.trim()) return null;
      if (pastedSent && pastedSent.text === text && pastedSent.format === format) return pastedSent.id;
      const mc = await deps.api.mountConfig('pasted', text, format === 'auto' ? undefined : format);
      patchStart({ pastedSent: { text, format, id: mc.id } });
      return mc.id;
    }

    return {
      start: {
        items: [],
        mode: 'server',
        pasted: '',
        pastedFormat: 'auto',
        pasteError: null,
        pastedSent: null,
        pastedResidency: '',
        residencyPasteError: null,
        pastedResidencySent: null,
        busy: false,
        error: '',
        demo: null,
        demoError: '',
        created: null,
        archiveModel: 'flattened',
        browserArchivesAbove: BROWSER_ARCHIVES_ABOVE_BYTES,
      },

      async addFiles(files) {
        const added: StartItem[] = [];
        let items = [...get().start.items];
        for (const file of files) {
          let kind = kindOf(file.name);
          // An OCI archive is told from its bytes; a tar named after a dropped image (its stem)
          // stays that image's device (mkfs.erofs --tar=i keeps the data in the tar).
          if (kind !== 'image') {
            const stem = file.name.split('.')[0]!;
            const deviceOf = items.some((x) => x.kind === 'image' && x.file.name.startsWith(stem));
            if (!(kind === 'device' && deviceOf) && (await looksLikeArchive(file).catch(() => false)))
              kind = 'archive';
          }
          let of = -1;
          if (kind === 'device') {
            // A device goes with the image whose name it starts with, else the last image.
            const imgs = items.filter((x) => x.kind === 'image');
            const stem = file.name.replace(/\.[^.]*(?:\.[^.]*)?$/, '').split('.')[0]!;
            of = (imgs.find((x) => x.file.name.startsWith(stem)) ?? imgs[imgs.length - 1])?.key ?? -1;
            items = resetImage(items, of);
          }
          const it: StartItem = {
            key: nextKey++,
            file,
            kind,
            of,
            ...unsent,
            detected: null,
            format: 'auto',
          };
          items.push(it);
          added.push(it);
        }
        patchStart({ items });
        // Show the detected format of each mount configuration (reading is asynchronous).
        await Promise.all(
          added
            .filter((it) => it.kind === 'mounts')
            .map(async (it) => {
              try {
                update(it.key, { detected: detectedMountFormat(await textOf(it.file), it.file.name) });
              } catch {
                /* unreadable: the upload reports it */
              }
            }),
        );
      },

      removeItem(key) {
        const gone = get().start.items.find((x) => x.key === key);
        let items = get().start.items.filter((x) => x.key !== key);
        if (gone?.kind === 'device') items = resetImage(items, gone.of);
        // Devices of a removed image now belong to no image.
        items = items.map((x) => (x.kind === 'device' && x.of === key ? { ...x, of: -1 } : x));
        patchStart({ items });
      },

      changeItem(key, patch) {
        const before = get().start.items.find((x) => x.key === key);
        if (!before) return;
        let items = get().start.items.map((x) => (x.key === key ? { ...x, ...patch, ...unsent } : x));
        if (before.kind === 'device') items = resetImage(items, before.of);
        if (patch.of !== undefined) items = resetImage(items, patch.of);
        patchStart({ items });
        const after = items.find((x) => x.key === key)!;
        if (after.kind === 'mounts' && after.detected === null)
          void textOf(after.file).then(
            (text) => update(key, { detected: detectedMountFormat(text, after.file.name) }),
            () => undefined,
          );
      },

      setPasted(pasted) {
        patchStart({ pasted, pasteError: null });
      },
      setPastedFormat(pastedFormat) {
        patchStart({ pastedFormat, pasteError: null });
      },
      setPastedResidency(pastedResidency) {
        patchStart({ pastedResidency, residencyPasteError: null });
      },
      setMode(mode) {
        patchStart({ mode });
      },
      setArchiveModel(archiveModel) {
        patchStart({
          archiveModel,
          items: get().start.items.map((x) => (x.kind === 'archive' ? { ...x, ...unsent } : x)),
        });
      },
      setBrowserArchivesAbove(bytes) {
        if (Number.isFinite(bytes) && bytes >= 0) patchStart({ browserArchivesAbove: bytes });
      },

      async loadDemo() {
        try {
          const d = await deps.api.demo();
          const summary = await deps.api.summary(d.id);
          patchStart({ demo: { id: d.id, headline: headlineOf(summary) } });
        } catch {
          /* the demo is optional: "Open the demo report" says why when clicked */
        }
      },

      async openDemo() {
        patchStart({ demoError: '' });
        try {
          return (await deps.api.demo()).id;
        } catch (e) {
          patchStart({ demoError: errorText(e) });
          return null;
        }
      },

      async analyse() {
        if (get().start.busy) return null;
        patchStart({ busy: true, error: '', pasteError: null, residencyPasteError: null, created: null });
        const sent = new Map<number, InputRefs>();
        let pastedId: string | null = null;
        let pastedResidency: InputRefs | null = null;
        let failed = 0;
        const jobs: Promise<unknown>[] = get()
          .start.items.filter((it) => it.kind !== 'device')
          .map(async (it) => {
            if (it.phase === 'ready' && it.refs) return void sent.set(it.key, it.refs); // sent before: not again
            try {
              sent.set(it.key, await send(it));
            } catch (e) {
              failed++;
              update(it.key, { phase: 'failed', error: errorText(e) });
            }
          });
        /** A pasted text's job: its failure is placed at the text (`errorKey`), not on an input. */
        const pastedJob = <T>(
          sending: Promise<T>,
          done: (v: T) => void,
          errorKey: 'pasteError' | 'residencyPasteError',
        ) =>
          sending.then(done, (e: unknown) => {
            failed++;
            patchStart({ [errorKey]: { message: errorText(e), place: placeOf(e) } });
          });
        jobs.push(pastedJob(sendPasted(), (id) => void (pastedId = id), 'pasteError'));
        jobs.push(
          pastedJob(sendPastedResidency(), (refs) => void (pastedResidency = refs), 'residencyPasteError'),
        );
        await Promise.all(jobs);
        // The request lists the inputs in the order the user added them (the pasted text last).
        const all = NO_REFS();
        for (const it of get().start.items) {
          const r = sent.get(it.key);
          if (!r) continue;
          all.images.push(...r.images);
          all.manifests.push(...r.manifests);
          all.mountConfigs.push(...r.mountConfigs);
          all.residency.push(...r.residency);
        }
        if (pastedId !== null) all.mountConfigs.push(pastedId);
        if (pastedResidency !== null) {
          const r: InputRefs = pastedResidency;
          all.mountConfigs.push(...r.mountConfigs);
          all.residency.push(...r.residency);
        }
        if (failed > 0 || all.images.length + all.manifests.length === 0) {
          patchStart({ busy: false, error: failed ? '' : 'Add at least one EROFS image or OCI archive.' });
          return null;
        }
        const req: ReportRequest = {
          images: all.images,
          manifests: all.manifests,
          mountConfigs: all.mountConfigs,
          ...(all.residency.length > 0 ? { residency: all.residency.map((id) => ({ id })) } : {}),
        };
        try {
          const created = await deps.api.createReport(req);
          // The report has the inputs now: the start page begins empty again (as on a first visit).
          patchStart({
            busy: false,
            created,
            items: [],
            pasted: '',
            pasteError: null,
            pastedResidency: '',
            residencyPasteError: null,
          });
          return created.id;
        } catch (e) {
          patchStart({ busy: false, error: `Creating the report failed: ${errorText(e)}` });
          return null;
        }
      },
    };
  };
}

/** "3 mounts name images you did not upload: a.img (/run/a), ...": null when every mount resolved. */
export function unresolvedText(created: ReportCreated | null): string | null {
  const u = created?.unresolved ?? [];
  if (u.length === 0) return null;
  const list = u.map((m) => `${m.source} (${m.mountPoint})`).join(', ');
  return `${plural(u.length, 'mount')} name${u.length === 1 ? 's an image' : ' images'} you did not upload: ${list}`;
}
