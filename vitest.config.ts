import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Test files run side by side in this many processes. Vitest's default in a `run` is one fewer
 * than the cores: a single worker on CI's two cores, which ran the files one after the other
 * while most of them wait on child processes, servers and disk. Two or more keep both cores
 * busy (docs/development.md#how-long-npm-test-takes); every test file has its own temporary
 * folders, ports and databases, and every one that starts servers, processes or threads or sets
 * the environment runs in a process of its own (SHARED_PROCESS_TESTS share theirs).
 */
export const TEST_FILE_WORKERS = Math.max(2, availableParallelism());

/**
 * Test files that only compute: the sharing model, the report wire format, the web UI's logic,
 * and the EROFS reader's and OCI reader's files that read testdata in this thread. They start no
 * server, process or thread, replace no global, set no environment variable, leave the LZ4
 * decoder alone and mock nothing (scripts/test/shared-process-guard.ts checks that after each
 * file), so they run without isolation (`isolate: false`): a worker process
 * runs many of them one after the other and imports their common modules once, instead of a
 * fresh process importing the same module graph again for each file
 * (docs/development.md#how-long-npm-test-takes). Any other test file, a new one included, runs
 * in a process of its own (the web's `scan.test.ts` runs the CLI, `state/start.test.ts` a
 * server and its own `fetch`).
 */
export const SHARED_PROCESS_TESTS = [
  'packages/sharing/test/**/*.test.ts',
  'packages/report-wire/test/**/*.test.ts',
  'apps/web/test/lib/{compact,derive,glossary,measure,pairs,sort}.test.ts',
  // The EROFS reader and the manifest codecs on testdata, in this thread: no digest threads
  // (no `threads` option), no LZ4 decoder set (the files that call useLz4Decoder or
  // setLz4Decoder, start workers or spawn the CLI stay in processes of their own).
  'packages/erofs/test/{broken,bytes,data-now,data-pieces,disk,fuzz-regressions,image,lz4-exact,metabox,metabox-fixtures,metadata-in-place,oracles,source,walk}.test.ts',
  'packages/erofs/test/compressed-{fixtures,local,synthetic}.test.ts',
  'packages/erofs/test/{decompress-limits,snappy}.test.ts',
  'packages/erofs/test/manifest{,-bytes,-columns,-columns-bulk,-columns-codec,-encode,-fast-line,-header-later,-line-wasm,-order,-parquet,-parquet-columns,-roundtrip,-stream,-strings}.test.ts',
  'packages/erofs/test/node/columns-transfer.test.ts',
  // The OCI layer reader and predictions (not node.test, read-chunks, tar-hasher: digest workers).
  'packages/oci/test/{archive,cases,image,predict,predict-archive}.test.ts',
];

/**
 * Server test files that start servers, workers and child processes on purpose but end them by
 * their end, and set no environment variable, replace no global, leave the LZ4 decoder alone and
 * mock nothing: they share worker processes (`isolate: false`, the `server-shared` project), so
 * each process imports the server's sources once instead of once per file, as the PostgreSQL
 * pass (apps/server/vitest.postgres.config.ts) runs its files. After each file
 * apps/server/test/server-shared-process-guard.ts checks that it handed the process back as it
 * found it (environment, globals, process listeners, LZ4 decoder, no handle left open once they
 * settle). Left in processes of their own: `replicas` and `http-fuzz` (not changed here),
 * `lz4-decoder` (sets the decoder), `scan/pool` (sets an environment variable).
 */
export const SERVER_SHARED_TESTS = [
  'apps/server/test/{analysis-input,api-routes,archives,client-gone,concurrency,config,crash,data-lock,errors,fidelity,flow,gc,hostile,keep-alive,manifest-accept,metrics,mount-config-budget,mount-config-worker,mount-formats,output-injection,parts,render-memory,render-parity,renders,report-html,report-links,report-list,report-names,report-size,residency,retention-config,robustness,shutdown,storage-schema,stored-columns,upload-columns}.test.ts',
  'apps/server/test/scan/{report-blobs,stored-manifest,thread-cpu}.test.ts',
  'apps/server/test/storage/{blobs-collect,blobs-gzip,store}.test.ts',
];

/**
 * The CLI's test files, which run the CLI in the test's process (`cli()` of
 * apps/cli/test/helpers.ts: manifest and split-scan threads, test servers, child processes),
 * share worker processes in the `cli-shared` project under the same guard as the server's
 * (apps/server/test/server-shared-process-guard.ts). Left in processes of their own:
 * `scan-split` (not changed here), `lz4-decoder` (sets the decoder), `determinism` (runs the
 * web's analysis worker in the process with a global `self`).
 */
export const CLI_SHARED_TESTS = [
  'apps/cli/test/{action,analyze,args,collect-backing,collect,columnar,config,fidelity,help,hostile-output,html,junit,manifest-file,manifest-threads,names,network,oci,residency,scan-start-modules,scan-threads-used,scan-threads,scan,token,trust,upload,v8-flags}.test.ts',
];

// Unit and integration tests of every workspace package. Workspace imports resolve to
// TypeScript sources through the "source" export condition, so tests never need a build.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: TEST_FILE_WORKERS,
    // Under CI a failed test runs once more; scripts/test.mjs names every test that needed the
    // second run (FLAKY lines) so it gets fixed, not forgotten (docs/development.md#flaky-tests).
    retry: process.env.CI ? 1 : 0,
    projects: [
      {
        extends: true,
        test: {
          name: 'own-process',
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/*/test/**/*.test.ts',
            'apps/*/src/**/*.test.ts',
            'apps/*/test/**/*.test.ts',
            'scripts/test/**/*.test.ts',
          ],
          exclude: [
            '**/node_modules/**',
            ...SHARED_PROCESS_TESTS,
            ...SERVER_SHARED_TESTS,
            ...CLI_SHARED_TESTS,
          ],
        },
      },
      {
        extends: true,
        test: {
          name: 'shared-process',
          include: SHARED_PROCESS_TESTS,
          isolate: false,
          // Fails a file that leaves the environment, globals, the LZ4 decoder, a worker thread,
          // a child process or a socket changed behind it for the next file of its process.
          setupFiles: ['scripts/test/shared-process-guard.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'server-shared',
          include: SERVER_SHARED_TESTS,
          isolate: false,
          // Fails a file that leaves the environment, globals, process listeners, the LZ4
          // decoder or an open handle changed behind it for the next file of its process.
          setupFiles: ['apps/server/test/server-shared-process-guard.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'cli-shared',
          include: CLI_SHARED_TESTS,
          isolate: false,
          setupFiles: ['apps/server/test/server-shared-process-guard.ts', 'apps/cli/test/tmp-dirs-setup.ts'],
        },
      },
    ],
  },
});
