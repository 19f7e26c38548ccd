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
import { nowIso } from './storage/db.js';

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
  try {
    await loadDemo(ctx);
  } catch (e) {
    if (ctx.closing) return;
    ctx.demo = { status: 'failed', error: (e as Error).message };
    ctx.log.error('demo report failed', { err: e as Error });
  }
}

async function loadDemo(ctx: AppContext): Promise<void> {
  const dir = ctx.config.demoDir;
  if (!dir) {
    ctx.demo = { status: 'disabled' };
    return;
  }
  const meta = ctx.store.meta;
  const existing = await meta.get('demo_report_id');
  if (existing && (await ctx.store.reports.get(existing))) {
    ctx.demo = { status: 'ready', id: existing };
    return;
  }
  const state = await meta.get('demo_state');
  const empty = !((await ctx.store.reports.any()) || (await ctx.store.images.any()));
  if (state !== 'loading' && !empty) {
    ctx.demo = { status: 'disabled' }; // a data folder with user data and no demo: leave it alone
    return;
  }
  ctx.demo = { status: 'loading' };
  await meta.set('demo_state', 'loading');
  const files = DEMO_IMAGES.map((n) => path.join(dir, 'erofs', n)).filter((f) => existsSync(f));
  const mounts = path.join(dir, DEMO_MOUNTS);
  if (files.length === 0) throw new Error(`no demo images in ${path.join(dir, 'erofs')}`);
  const ids: string[] = [];
  for (const f of files) {
    const blob = await ctx.blobs.write(createReadStream(f));
    const id = newId();
    const now = nowIso();
    await ctx.store.images.insert({
      id,
      name: path.basename(f),
      sha256: blob.sha256,
      size: blob.size,
      devices: '[]',
      status: 'queued',
      error_code: null,
      error_message: null,
      manifest_id: null,
      created_at: now,
      updated_at: now,
    });
    await scheduleScan(ctx, id);
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
  await meta.set('demo_report_id', created.id);
  await meta.set('demo_state', 'ready');
  ctx.demo = { status: 'ready', id: created.id };
}
