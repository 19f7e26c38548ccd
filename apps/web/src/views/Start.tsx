/**
 * Start: drop images (+ blob devices) and mount configurations, scan on the server or in the
 * browser (the image never leaves the machine: only its manifest is uploaded), open the demo,
 * or reopen a recent report.
 */
import { useEffect, useRef, useState } from 'react';
import {
  detectResidencyFormat,
  formatBytes,
  snapshotMountConfigText,
  type ResidencyFormat,
} from '@sharemap/sharing';
import { headlineOf } from '../lib/head';
import { api, ApiError } from '../api/client';
import type { ScanMessage } from '../workers/scan.worker';
import { useStore } from '../state/store';
import { recentReports } from '../state/recent';

type Kind = 'image' | 'device' | 'mounts' | 'residency';
type Phase = 'waiting' | 'uploading' | 'scanning' | 'ready' | 'failed';

interface Item {
  key: number;
  file: File;
  kind: Kind;
  /** For devices: key of the image they belong to. */
  of: number;
  phase: Phase;
  /** 0..1 upload progress, or scanned files. */
  progress: number;
  detail: string;
  error: string;
  /** Server id of the uploaded image / manifest / mount config. */
  id: string;
}

function kindOf(f: File): Kind {
  if (/\.(img|erofs|ero)$/i.test(f.name)) return 'image';
  if (/\.(blob|tar|dev)$/i.test(f.name)) return 'device';
  if (/(?:snapshot|fincore|vmtouch|pcstat|access)[^/]*$|\.gz$/i.test(f.name)) return 'residency';
  return 'mounts';
}

/** A dropped text file, gunzipped when it starts with the gzip magic (host snapshots are gzip). */
async function textOf(f: File): Promise<string> {
  const head = new Uint8Array(await f.slice(0, 2).arrayBuffer());
  if (head[0] !== 0x1f || head[1] !== 0x8b) return f.text();
  return new Response(f.stream().pipeThrough(new DecompressionStream('gzip'))).text();
}

/** The residency format of a text, or null (access lists only when the kind says residency: fstab lines also start with "/"). */
function residencyFormatOf(text: string, chosen: Kind): ResidencyFormat | null {
  try {
    const f = detectResidencyFormat(text);
    return f === 'access-list' && chosen !== 'residency' ? null : f;
  } catch {
    return null;
  }
}

function describe(e: unknown): string {
  if (e instanceof ApiError) {
    const b = e.body;
    const where = b.line
      ? ` (${b.file ? b.file + ':' : 'line '}${b.line}${b.column ? ':' + b.column : ''})`
      : '';
    return `${b.code}: ${b.message}${b.message.includes(':' + b.line) ? '' : where}`;
  }
  return (e as Error).message;
}

function scanInBrowser(
  file: File,
  devices: File[],
  onProgress: (files: number, bytes: number) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('../workers/scan.worker.ts', import.meta.url), {
      type: 'module',
      name: 'scan',
    });
    w.onmessage = (e: MessageEvent<ScanMessage>) => {
      const m = e.data;
      if (m.kind === 'progress') onProgress(m.files, m.bytesHashed);
      else {
        w.terminate();
        if (m.kind === 'done') resolve(m.ndjson);
        else reject(new Error(`${m.code}: ${m.message}`));
      }
    };
    w.onerror = (e) => {
      w.terminate();
      reject(new Error(e.message || 'scan worker failed'));
    };
    w.postMessage({ image: file, devices });
  });
}

let nextKey = 1;

export function Start() {
  const navigate = useStore((s) => s.navigate);
  const [items, setItems] = useState<Item[]>([]);
  const [mode, setMode] = useState<'server' | 'browser'>('server');
  const [pasted, setPasted] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [drag, setDrag] = useState(false);
  const [demoErr, setDemoErr] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const recent = recentReports();
  const [demo, setDemo] = useState<{ id: string; headline: string } | null>(null);
  useEffect(() => {
    let live = true;
    api
      .demo()
      .then((d) => api.summary(d.id).then((r) => live && setDemo({ id: d.id, headline: headlineOf(r) })))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);

  const update = (key: number, patch: Partial<Item>) =>
    setItems((xs) => xs.map((x) => (x.key === key ? { ...x, ...patch } : x)));

  const add = (files: FileList | File[]) => {
    setItems((xs) => {
      const out = [...xs];
      for (const file of Array.from(files)) {
        const kind = kindOf(file);
        let of = -1;
        if (kind === 'device') {
          const imgs = out.filter((x) => x.kind === 'image');
          const stem = file.name.replace(/\.[^.]*(\.[^.]*)?$/, '');
          of =
            (imgs.find((x) => x.file.name.startsWith(stem.split('.')[0]!)) ?? imgs[imgs.length - 1])?.key ??
            -1;
        }
        out.push({
          key: nextKey++,
          file,
          kind,
          of,
          phase: 'waiting',
          progress: 0,
          detail: '',
          error: '',
          id: '',
        });
      }
      return out;
    });
  };

  const openDemo = async () => {
    setDemoErr('');
    try {
      const d = await api.demo();
      navigate(`/r/${d.id}`);
    } catch (e) {
      setDemoErr(describe(e));
    }
  };

  const analyze = async () => {
    setBusy(true);
    setError('');
    const images: string[] = [];
    const manifests: string[] = [];
    const mountConfigs: string[] = [];
    const residency: { id: string }[] = [];
    let failed = 0;
    const jobs = items.map(async (it) => {
      try {
        if (it.kind === 'device') return;
        if (it.kind === 'mounts' || it.kind === 'residency') {
          update(it.key, { phase: 'uploading' });
          const text = await textOf(it.file);
          const format = residencyFormatOf(text, it.kind);
          if (format !== null) {
            // Residency (docs/working-set.md); a host snapshot also holds its mount table.
            const res = await api.residency(it.file.name, text);
            residency.push({ id: res.id });
            let detail = `residency (${res.format}), ${res.records} files, ${res.residentPages} resident pages`;
            if (format === 'host-snapshot') {
              const mc = await api.mountConfig(
                it.file.name,
                snapshotMountConfigText(JSON.parse(text) as { mounts: { files: unknown[] }[] }),
              );
              mountConfigs.push(mc.id);
              detail += `; ${mc.entries.length} mount${mc.entries.length === 1 ? '' : 's'}`;
            }
            update(it.key, { phase: 'ready', id: res.id, progress: 1, detail });
            return;
          }
          if (it.kind === 'residency')
            throw new Error('not a residency format (fincore, vmtouch, pcstat, access list, host snapshot)');
          const mc = await api.mountConfig(it.file.name, text);
          mountConfigs.push(mc.id);
          update(it.key, {
            phase: 'ready',
            id: mc.id,
            progress: 1,
            detail: `${mc.format}, ${mc.entries.length} mount${mc.entries.length === 1 ? '' : 's'}${mc.warnings.length ? `; ${mc.warnings.map((w) => w.message).join('; ')}` : ''}`,
          });
          return;
        }
        const devices = items.filter((d) => d.kind === 'device' && d.of === it.key).map((d) => d.file);
        if (mode === 'browser') {
          update(it.key, { phase: 'scanning', detail: 'scanning in your browser' });
          const ndjson = await scanInBrowser(it.file, devices, (files, bytes) =>
            update(it.key, {
              detail: `scanning in your browser: ${files} files, ${formatBytes(bytes)} hashed`,
            }),
          );
          update(it.key, {
            phase: 'uploading',
            detail: `uploading the manifest (${formatBytes(ndjson.length)}); the image stays here`,
          });
          const m = await api.manifest(it.file.name, ndjson);
          manifests.push(m.id);
          update(it.key, {
            phase: 'ready',
            id: m.id,
            progress: 1,
            detail: `manifest of ${m.fileCount} files (scanned in the browser)`,
          });
        } else {
          update(it.key, { phase: 'uploading' });
          const img = await api.uploadImage(it.file, devices, (loaded, total) =>
            update(it.key, {
              progress: total ? loaded / total : 0,
              detail: `${formatBytes(loaded)} of ${formatBytes(total)}`,
            }),
          );
          update(it.key, { phase: 'scanning', progress: 1, detail: 'scanning on the server' });
          const done = await api.waitForScan(
            img.id,
            (p) =>
              p.progress && update(it.key, { detail: `scanning on the server: ${p.progress.files} files` }),
          );
          if (done.status === 'failed')
            throw new Error(`${done.error?.code ?? 'failed'}: ${done.error?.message ?? 'scan failed'}`);
          images.push(img.id);
          update(it.key, {
            phase: 'ready',
            id: img.id,
            detail: `${done.manifest?.fileCount ?? '?'} files${done.deduplicated ? ' (already scanned)' : ''}`,
          });
        }
      } catch (e) {
        failed++;
        update(it.key, { phase: 'failed', error: describe(e) });
      }
    });
    if (pasted.trim()) {
      jobs.push(
        api.mountConfig('pasted', pasted).then(
          (mc) => void mountConfigs.push(mc.id),
          (e) => {
            failed++;
            setError(`Pasted mount configuration: ${describe(e)}`);
          },
        ),
      );
    }
    await Promise.all(jobs);
    if (failed > 0 || images.length + manifests.length === 0) {
      setBusy(false);
      if (!failed) setError('Add at least one EROFS image.');
      return;
    }
    try {
      const rep = await api.createReport({
        images,
        manifests,
        mountConfigs,
        ...(residency.length > 0 ? { residency } : {}),
      });
      navigate(`/r/${rep.id}`);
    } catch (e) {
      setError(`Creating the report failed: ${describe(e)}`);
      setBusy(false);
    }
  };

  const hasImage = items.some((x) => x.kind === 'image');
  return (
    <div className="start">
      <section className="hero">
        <h1>Which files share page cache, and how much memory does it save?</h1>
        <p>
          sharemap reads your EROFS images and mount configurations and models Linux 7.0&apos;s{' '}
          <code>inode_share</code>: which files of which instances share cached pages, which cannot and why.
        </p>
        <button type="button" className="btn primary" onClick={() => void openDemo()} data-testid="open-demo">
          Open the demo report
        </button>
        {/* One line reserved whether or not the demo has arrived: its headline (or the error)
            fills the slot without moving the controls below under the user's pointer. */}
        <div className="demo-slot" data-testid="demo-slot">
          {demoErr ? (
            <p className="field-error" role="alert">
              Demo: {demoErr}
            </p>
          ) : demo ? (
            <p className="demo-headline">
              Demo fleet:{' '}
              <a
                href={`/r/${demo.id}`}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(`/r/${demo.id}`);
                }}
              >
                {demo.headline}
              </a>
            </p>
          ) : null}
        </div>
      </section>

      <section className="card">
        <h2>Your fleet</h2>
        <div
          className={`dropzone${drag ? ' drag' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDrag(true);
          }}
          onDragLeave={() => setDrag(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDrag(false);
            add(e.dataTransfer.files);
          }}
        >
          <p>
            Drop EROFS images (<code>.img</code>, <code>.erofs</code>), their extra devices (
            <code>.blob</code>, <code>.tar</code>) and mount configurations (mountinfo, fstab, systemd units,
            mount commands, JSON plans) here, or{' '}
            <button type="button" className="linkish" onClick={() => input.current?.click()}>
              choose files
            </button>
            .
          </p>
          <input
            ref={input}
            type="file"
            multiple
            hidden
            data-testid="file-input"
            aria-label="Choose files"
            onChange={(e) => e.target.files && add(e.target.files)}
          />
        </div>
        {items.length > 0 && (
          <ul className="uploads" aria-label="Files to analyse">
            {items.map((it) => (
              <li key={it.key} className={`upload ${it.phase}`} data-testid="upload-item">
                <span className="name">{it.file.name}</span>
                <select
                  aria-label={`Kind of ${it.file.name}`}
                  value={it.kind}
                  disabled={busy}
                  onChange={(e) => update(it.key, { kind: e.target.value as Kind })}
                >
                  <option value="image">image</option>
                  <option value="device">device of an image</option>
                  <option value="mounts">mount configuration</option>
                  <option value="residency">page-cache residency</option>
                </select>
                {it.kind === 'device' && (
                  <select
                    aria-label={`Image of ${it.file.name}`}
                    value={it.of}
                    disabled={busy}
                    onChange={(e) => update(it.key, { of: Number(e.target.value) })}
                  >
                    {items
                      .filter((x) => x.kind === 'image')
                      .map((x) => (
                        <option key={x.key} value={x.key}>
                          {x.file.name}
                        </option>
                      ))}
                  </select>
                )}
                <span className="muted small">{formatBytes(it.file.size)}</span>
                <progress
                  max={1}
                  value={it.phase === 'ready' ? 1 : it.progress}
                  aria-label={`Progress of ${it.file.name}`}
                />
                <span className="phase">{it.phase}</span>
                {it.detail && <span className="muted small">{it.detail}</span>}
                {it.error && (
                  <span className="field-error" role="alert" data-testid="upload-error">
                    {it.error}
                  </span>
                )}
                {!busy && (
                  <button
                    type="button"
                    className="btn small"
                    aria-label={`Remove ${it.file.name}`}
                    onClick={() => setItems((xs) => xs.filter((x) => x.key !== it.key))}
                  >
                    ✕
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
        <label className="paste">
          Or paste a mount configuration (mountinfo, fstab, …)
          <textarea
            value={pasted}
            onChange={(e) => setPasted(e.target.value)}
            rows={4}
            placeholder="/var/lib/images/base.img /run/images/base erofs ro,inode_share,domain_id=tenant-a 0 0"
          />
        </label>
        <fieldset className="mode">
          <legend>Where to scan the images</legend>
          <label>
            <input
              type="radio"
              name="mode"
              value="server"
              checked={mode === 'server'}
              onChange={() => setMode('server')}
            />{' '}
            Upload and scan on the server
          </label>
          <label>
            <input
              type="radio"
              name="mode"
              value="browser"
              checked={mode === 'browser'}
              onChange={() => setMode('browser')}
              data-testid="mode-browser"
            />{' '}
            Scan in this browser: images never leave your machine, only their manifests are uploaded
          </label>
        </fieldset>
        <button
          type="button"
          className="btn primary"
          disabled={busy || !hasImage}
          onClick={() => void analyze()}
          data-testid="analyze"
        >
          {busy ? 'Working…' : 'Analyse'}
        </button>
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
      </section>

      <section className="card">
        <h2>Recent reports in this browser</h2>
        {recent.length === 0 ? (
          <p className="muted">None yet.</p>
        ) : (
          <ul className="recent">
            {recent.map((x) => (
              <li key={x.id}>
                <a
                  href={`/r/${x.id}`}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(`/r/${x.id}`);
                  }}
                >
                  {x.headline}
                </a>{' '}
                <span className="muted small">{new Date(x.openedAt).toLocaleString()}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
