/**
 * vitest globalSetup of the server suite on PostgreSQL (vitest.postgres.config.ts): one private
 * cluster (pg-cluster.ts) for the whole run; each test server gets its own database of it
 * (helpers.ts testDatabaseUrl). Throws with the reason when no cluster can start.
 */
import type { TestProject } from 'vitest/node';
import { startPgCluster } from './pg-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** postgres:// URL of the test cluster's maintenance database (CREATE DATABASE goes there). */
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const cluster = await startPgCluster();
  project.provide('pgAdminUrl', cluster.url);
  return () => cluster.stop();
}
