/**
 * Start: drop images (+ blob devices) and mount configurations, scan on the server or in the
 * browser (the image never leaves the machine: only its manifest is uploaded), open the demo,
 * or reopen a recent report. The workflow is the store's start slice (state/start.ts); this
 * view renders it.
 */
import { useEffect, useRef, useState } from 'react';
import { useStore } from '../state/store';
import { recentReports } from '../state/recent';
import { PasteConfig, PasteResidency } from './start/PasteConfig';
import { Uploads } from './start/Uploads';

/** A link inside the app (no page load). */
function AppLink({ to, children }: { to: string; children: React.ReactNode }) {
  const navigate = useStore((s) => s.navigate);
  return (
    <a
      href={to}
      onClick={(e) => {
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function Start() {
  const navigate = useStore((s) => s.navigate);
  const start = useStore((s) => s.start);
  const { addFiles, setMode, setArchiveModel, setBrowserArchivesAbove, loadDemo, openDemo, analyse } =
    useStore.getState();
  const [drag, setDrag] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const recent = recentReports();
  useEffect(() => void loadDemo(), [loadDemo]);

  const go = (id: string | null) => id !== null && navigate(`/r/${id}`);
  const hasImage = start.items.some((x) => x.kind === 'image' || x.kind === 'archive');
  const hasArchive = start.items.some((x) => x.kind === 'archive');
  return (
    <div className="start">
      <section className="hero">
        <h1>Which files share page cache, and how much memory does it save?</h1>
        <p>
          sharemap reads your EROFS images and mount configurations and models Linux 7.0&apos;s{' '}
          <code>inode_share</code>: which files of which instances share cached pages, which cannot and why.
        </p>
        <button
          type="button"
          className="btn primary"
          onClick={() => void openDemo().then(go)}
          data-testid="open-demo"
        >
          Open the demo report
        </button>
        {/* One line reserved whether or not the demo has arrived: its headline (or the error)
            fills the slot without moving the controls below under the user's pointer. */}
        <div className="demo-slot" data-testid="demo-slot">
          {start.demoError ? (
            <p className="field-error" role="alert">
              Demo: {start.demoError}
            </p>
          ) : start.demo ? (
            <p className="demo-headline">
              Demo fleet: <AppLink to={`/r/${start.demo.id}`}>{start.demo.headline}</AppLink>
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
            void addFiles(e.dataTransfer.files);
          }}
        >
          <p>
            Drop EROFS images (<code>.img</code>, <code>.erofs</code>), their extra devices (
            <code>.blob</code>, <code>.tar</code>) and mount configurations (mountinfo, fstab, systemd units,
            mount commands, JSON plans) or OCI archives (<code>docker save</code>, OCI layout or rootfs tars:
            their EROFS manifests are predicted) here, or{' '}
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
            onChange={(e) => e.target.files && void addFiles(Array.from(e.target.files))}
          />
        </div>
        <Uploads />
        <PasteConfig />
        <PasteResidency />
        <fieldset className="mode">
          <legend>Where to scan the images</legend>
          <label>
            <input
              type="radio"
              name="mode"
              value="server"
              checked={start.mode === 'server'}
              onChange={() => setMode('server')}
            />{' '}
            Upload and scan on the server
          </label>
          <label>
            <input
              type="radio"
              name="mode"
              value="browser"
              checked={start.mode === 'browser'}
              onChange={() => setMode('browser')}
              data-testid="mode-browser"
            />{' '}
            Scan in this browser: images never leave your machine, only their manifests are uploaded
          </label>
        </fieldset>
        {hasArchive && (
          <fieldset className="mode" data-testid="archive-options">
            <legend>OCI archives (predicted as mkfs.erofs 1.9.3 would build them)</legend>
            <label>
              Model{' '}
              <select
                value={start.archiveModel}
                disabled={start.busy}
                onChange={(e) => setArchiveModel(e.target.value as 'flattened' | 'layers')}
              >
                <option value="flattened">flattened: one EROFS image per OCI image</option>
                <option value="layers">per layer: one EROFS image per distinct layer</option>
              </select>
            </label>
            <label>
              Predict archives larger than{' '}
              <input
                type="number"
                min={0}
                step={1}
                value={Math.round(start.browserArchivesAbove / 1024 ** 2)}
                disabled={start.busy}
                onChange={(e) => setBrowserArchivesAbove(Number(e.target.value) * 1024 ** 2)}
                data-testid="browser-archives-above"
              />{' '}
              MiB in this browser (smaller ones are uploaded unless you scan in the browser)
            </label>
          </fieldset>
        )}
        <button
          type="button"
          className="btn primary"
          disabled={start.busy || !hasImage}
          onClick={() => void analyse().then(go)}
          data-testid="analyze"
        >
          {start.busy ? 'Working…' : 'Analyse'}
        </button>
        {start.error && (
          <p className="field-error" role="alert">
            {start.error}
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
                <AppLink to={`/r/${x.id}`}>{x.headline}</AppLink>{' '}
                <span className="muted small">{new Date(x.openedAt).toLocaleString()}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
