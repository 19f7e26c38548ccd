/**
 * Demo data: on the first start with an empty data folder, scan real EROFS images shipped in
 * the repository (testdata/erofs) and the fleet fstab (testdata/mounts/fleet.fstab, with the
 * containers above it from fleet-containers.fstab) into a report, so a first-time visitor sees a real sharing report. `GET /api/demo` returns its id.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AppContext } from './context.js';
import { newId } from './ids.js';
import { parseAndStore } from './routes/mount-configs.js';
import { createReport } from './reports.js';
import { scheduleScan, waitForScan } from './scan/scheduler.js';
import { getMeta, nowIso, setMeta } from './storage/db.js';

/** The images fleet.fstab mounts, as shipped in testdata/erofs. */
export const DEMO_IMAGES = [
  'base-v1.fp.img',
  'base-v2.fp.img',
  'app.fp.img',
  'base-v1.fp.lz4hc.img',
  'app.fp.lz4hc.img',
  'base-v2.fp.lz4hc.img',
  'edge.img',
];
export const DEMO_MOUNTS = 'mounts/fleet.fstab';
/** The containers (overlay mounts) above fleet.fstab's mounts: the demo groups instances by them. */
export const DEMO_CONTAINERS = 'mounts/fleet-containers.fstab';
export const DEMO_TITLE = 'Demo: a host running images of two publishers (testdata/mounts/fleet.fstab)';

/** Load the demo if this data folder never had one; sets ctx.demo. Never throws. */
export async function ensureDemo(ctx: AppContext): Promise<void> {
  const dir = ctx.config.demoDir;
  if (!dir) {
    ctx.demo = { status: 'disabled' };
    return;
  }
  const existing = getMeta(ctx.db, 'demo_report_id');
  if (existing && ctx.db.prepare('SELECT 1 FROM reports WHERE id = ?').get(existing)) {
    ctx.demo = { status: 'ready', id: existing };
    return;
  }
  const state = getMeta(ctx.db, 'demo_state');
  const empty = !(
    ctx.db.prepare('SELECT 1 FROM reports LIMIT 1').get() ??
    ctx.db.prepare('SELECT 1 FROM images LIMIT 1').get()
  );
  if (state !== 'loading' && !empty) {
    ctx.demo = { status: 'disabled' }; // a data folder with user data and no demo: leave it alone
    return;
  }
  ctx.demo = { status: 'loading' };
  setMeta(ctx.db, 'demo_state', 'loading');
  try {
    const files = DEMO_IMAGES.map((n) => path.join(dir, 'erofs', n)).filter((f) => existsSync(f));
    const mounts = path.join(dir, DEMO_MOUNTS);
    if (files.length === 0) throw new Error(`no demo images in ${path.join(dir, 'erofs')}`);
    const ids: string[] = [];
    for (const f of files) {
      const blob = await ctx.blobs.write(createReadStream(f));
      const id = newId();
      const now = nowIso();
      ctx.db
        .prepare(
          `INSERT INTO images (id, name, sha256, size, devices, status, created_at, updated_at) VALUES (?, ?, ?, ?, '[]', 'queued', ?, ?)`,
        )
        .run(id, path.basename(f), blob.sha256, blob.size, now, now);
      scheduleScan(ctx, id);
      ids.push(id);
    }
    await Promise.all(ids.map((id) => waitForScan(ctx, id, ctx.config.limits.scanTimeoutMs + 5000)));
    if (ctx.closing) return;
    const mountConfigs: string[] = [];
    for (const file of [mounts, path.join(dir, DEMO_CONTAINERS)])
      if (existsSync(file))
        mountConfigs.push(
          (await parseAndStore(ctx, readFileSync(file, 'utf8'), path.basename(file), 'fstab')).id,
        );
    const created = await createReport(ctx, {
      images: ids,
      manifests: [],
      mountConfigs,
      mapping: {},
      domainAssignments: {},
      publishers: {},
      options: {},
      title: DEMO_TITLE,
    });
    setMeta(ctx.db, 'demo_report_id', created.id);
    setMeta(ctx.db, 'demo_state', 'ready');
    ctx.demo = { status: 'ready', id: created.id };
  } catch (e) {
    if (ctx.closing) return;
    ctx.demo = { status: 'failed', error: (e as Error).message };
    ctx.log.error('demo report failed', { err: e as Error });
  }
}
