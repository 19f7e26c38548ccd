/**
 * vitest globalSetup of the server suite on PostgreSQL (vitest.postgres.config.ts): one private
 * cluster (pg-cluster.ts) for the whole run; each test server gets its own database of it
 * (helpers.ts testDatabaseUrl), a copy of one template database on which the server's start
 * was done once: the schema migrated (storage/pg.ts) and the job queue's pg-boss schema and
 * queues installed (scan/pg-queue.ts). A server started on a copy finds them done, as a
 * replica does on a database another one has set up. Their work on an empty database is
 * proved in the main suite (storage/store.test.ts starts a server on one, replicas.test.ts two
 * racing on one, storage-schema.test.ts migrates one). Throws with the reason when no cluster
 * can start.
 */
import type { TestProject } from 'vitest/node';
import { createLogger } from '../src/log.js';
import { PgScanQueue } from '../src/scan/pg-queue.js';
import { migratePg, openPgPool } from '../src/storage/pg.js';
import { startPgCluster } from './pg-cluster.js';

/** The database each test server's database is created from (CREATE DATABASE ... TEMPLATE). */
export const PG_TEMPLATE_DATABASE = 'sharemap_template';

declare module 'vitest' {
  export interface ProvidedContext {
    /** postgres:// URL of the test cluster's maintenance database (CREATE DATABASE goes there). */
    pgAdminUrl: string;
    /** Name of the template database of the test servers' databases (PG_TEMPLATE_DATABASE). */
    pgTemplate: string;
  }
}

/** Does on `url` what a server's start does on an empty database, then lets go of it. */
async function prepareTemplate(url: string): Promise<void> {
  const pool = openPgPool(url);
  try {
    await migratePg(pool);
    const queue = new PgScanQueue({
      url,
      pool,
      concurrency: 1,
      leaseMs: 60_000,
      run: () => Promise.reject(new Error('the template database runs no scans')),
      getRow: () => Promise.resolve(undefined),
      analysisConcurrency: 1,
      analyze: () => Promise.reject(new Error('the template database runs no analyses')),
      log: createLogger('silent'),
    });
    await queue.start();
    await queue.close();
  } finally {
    await pool.end();
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const cluster = await startPgCluster();
  try {
    await prepareTemplate(cluster.createDatabase(PG_TEMPLATE_DATABASE));
  } catch (e) {
    cluster.stop();
    throw e;
  }
  project.provide('pgAdminUrl', cluster.url);
  project.provide('pgTemplate', PG_TEMPLATE_DATABASE);
  return () => cluster.stop();
}
