/**
 * The image detail of images predicted from OCI archives (docs/oci.md): repository tags,
 * digests, platform, and per layer its diff id, sizes and the paths it adds, changes and
 * deletes (predicted.image of the flattened manifest; at most MAX_LAYER_CHANGE_PATHS paths of
 * each kind are listed, the counts are exact).
 */
import { formatBytes } from '@sharemap/sharing';
import type { ReportImage } from '@sharemap/sharing';

type Layer = NonNullable<NonNullable<ReportImage['predicted']>['image']>['layers'][number];

function Paths({ layer, kind }: { layer: Layer; kind: 'added' | 'changed' | 'deleted' }) {
  const shown = layer.paths[kind];
  if (layer[kind] === 0) return <span className="muted">0</span>;
  return (
    <details>
      <summary data-testid={`layer-${kind}`}>{layer[kind]}</summary>
      <ul className="paths">
        {shown.map((p) => (
          <li key={p}>
            <code>{p}</code>
          </li>
        ))}
        {layer[kind] > shown.length && <li className="muted">and {layer[kind] - shown.length} more</li>}
      </ul>
    </details>
  );
}

/** One term of the image's description list, left out when the image has no value for it. */
function Field({ label, value }: { label: string; value: string | undefined }) {
  if (!value) return null;
  return (
    <>
      <dt>{label}</dt>
      <dd>
        <code>{value}</code>
      </dd>
    </>
  );
}

export function OciImages({ images }: { images: ReportImage[] }) {
  const oci = images.filter((i) => i.predicted?.image);
  if (oci.length === 0) return null;
  return (
    <section className="card" data-testid="oci-images">
      <h2>Predicted from OCI images</h2>
      {oci.map((im) => {
        const d = im.predicted!.image!;
        return (
          <div key={im.id} className="oci-image" data-testid="oci-image">
            <h3>
              {im.name} <span className="muted small">(predicted: {im.predicted!.options.join(' ')})</span>
            </h3>
            <dl>
              <dt>Repository tags</dt>
              <dd>{d.repoTags.length ? d.repoTags.join(', ') : <span className="muted">none</span>}</dd>
              <Field label="Manifest digest" value={d.manifestDigest} />
              <Field label="Config digest" value={d.configDigest} />
              <Field label="Platform" value={d.platform} />
            </dl>
            <table className="grid" aria-label={`Layers of ${im.name}`}>
              <thead>
                <tr>
                  <th>#</th>
                  <th>diff id</th>
                  <th className="num">size</th>
                  <th className="num">stored</th>
                  <th className="num">adds</th>
                  <th className="num">changes</th>
                  <th className="num">deletes</th>
                </tr>
              </thead>
              <tbody>
                {d.layers.map((l, i) => (
                  <tr key={i} data-testid="oci-layer">
                    <td>{i + 1}</td>
                    <td>
                      <code title={l.diffId}>{l.diffId.slice(0, 19)}…</code>
                    </td>
                    <td className="num" title={`${l.size} bytes`}>
                      {formatBytes(l.size)}
                    </td>
                    <td className="num" title={`${l.storedSize} bytes, ${l.digest}`}>
                      {formatBytes(l.storedSize)} {l.compression !== 'none' && `(${l.compression})`}
                    </td>
                    <td className="num">
                      <Paths layer={l} kind="added" />
                    </td>
                    <td className="num">
                      <Paths layer={l} kind="changed" />
                    </td>
                    <td className="num">
                      <Paths layer={l} kind="deleted" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        );
      })}
    </section>
  );
}
