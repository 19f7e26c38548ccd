// The private PostgreSQL cluster of the tests: defined once in plain ESM (pg-cluster.mjs) so
// the replicas benchmark (bench/replicas.bench.mjs) starts it the same way; the tests import
// it from here.
export { freePort, pgBinDir, startPgCluster, type PgCluster } from './pg-cluster.mjs';
