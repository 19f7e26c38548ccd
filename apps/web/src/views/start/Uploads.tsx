/** The dropped files: kind (and image of a device, format of a mount configuration), progress, result. */
import { formatBytes } from '@sharemap/sharing';
import { useStore } from '../../state/store';
import { archivePlace, type InputKind, type StartItem } from '../../state/start';
import { FormatSelect } from './formats';

function Row({ it, images, busy }: { it: StartItem; images: StartItem[]; busy: boolean }) {
  const changeItem = useStore((s) => s.changeItem);
  const removeItem = useStore((s) => s.removeItem);
  const mode = useStore((s) => s.start.mode);
  const browserAbove = useStore((s) => s.start.browserArchivesAbove);
  const name = it.file.name;
  return (
    <li className={`upload ${it.phase}`} data-testid="upload-item">
      <span className="name">{name}</span>
      <select
        aria-label={`Kind of ${name}`}
        value={it.kind}
        disabled={busy}
        onChange={(e) => changeItem(it.key, { kind: e.target.value as InputKind })}
      >
        <option value="image">image</option>
        <option value="device">device of an image</option>
        <option value="mounts">mount configuration</option>
        <option value="residency">page-cache residency</option>
        <option value="archive">OCI archive (predicted)</option>
      </select>
      {it.kind === 'device' && (
        <select
          aria-label={`Image of ${name}`}
          value={it.of}
          disabled={busy}
          onChange={(e) => changeItem(it.key, { of: Number(e.target.value) })}
        >
          {images.map((x) => (
            <option key={x.key} value={x.key}>
              {x.file.name}
            </option>
          ))}
        </select>
      )}
      {it.kind === 'mounts' && (
        <FormatSelect
          label={`Format of ${name}`}
          detected={it.detected}
          value={it.format}
          disabled={busy}
          onChange={(format) => changeItem(it.key, { format })}
        />
      )}
      <span className="muted small">{formatBytes(it.file.size)}</span>
      <progress max={1} value={it.phase === 'ready' ? 1 : it.progress} aria-label={`Progress of ${name}`} />
      <span className="phase">{it.phase}</span>
      {it.kind === 'archive' && it.phase === 'waiting' && (
        <span className="muted small" data-testid="archive-place">
          {archivePlace(it.file.size, mode, browserAbove) === 'browser'
            ? 'will be predicted in this browser: only the predicted manifests are sent'
            : 'will be uploaded to the server, which predicts it'}
        </span>
      )}
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
          aria-label={`Remove ${name}`}
          onClick={() => removeItem(it.key)}
        >
          ✕
        </button>
      )}
    </li>
  );
}

export function Uploads() {
  const items = useStore((s) => s.start.items);
  const busy = useStore((s) => s.start.busy);
  if (items.length === 0) return null;
  const images = items.filter((x) => x.kind === 'image');
  return (
    <ul className="uploads" aria-label="Files to analyse">
      {items.map((it) => (
        <Row key={it.key} it={it} images={images} busy={busy} />
      ))}
    </ul>
  );
}
