/**
 * Prometheus metrics (`GET /metrics`, text format 0.0.4, prom-client). One registry per
 * server context, so several servers in one process (the tests) count apart. Labels are
 * bounded: a route is its Express pattern (`/api/images/:id`), never the URL itself, so
 * ids and hostile paths cannot grow the series without bound.
 */
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Buckets (seconds) of request latencies: loopback API calls to multi-GiB uploads. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Buckets (seconds) of scans and report creation: small images in ms, 2M-file images in minutes. */
const JOB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** What the gauges read when scraped (the worker pools of the context). */
export interface QueueProbe {
  scansRunning(): number;
  scansQueued(): number;
  analysesRunning(): number;
  analysesQueued(): number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly uploadBytes: Counter<'route'>;
  readonly scanDuration: Histogram<'outcome'>;
  readonly reportCreation: Histogram<'outcome'>;
  /** Garbage collection (src/gc): runs, rows expired, blobs and bytes removed. */
  readonly gcRuns: Counter<'outcome'>;
  readonly gcRowsExpired: Counter<'kind'>;
  readonly gcBlobs: Counter;
  readonly gcBytes: Counter;

  constructor(probe: QueueProbe) {
    const registers = [this.registry];
    this.httpRequests = new Counter({
      name: 'sharemap_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'sharemap_http_request_duration_seconds',
      help: 'Time from a request to the end of its answer, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.uploadBytes = new Counter({
      name: 'sharemap_upload_bytes_total',
      help: 'Request body bytes received (uploads of images, devices, manifests, configurations), by route pattern',
      labelNames: ['route'],
      registers,
    });
    this.scanDuration = new Histogram({
      name: 'sharemap_scan_duration_seconds',
      help: 'Image scans from start in a worker to their result, by outcome (ready, failed)',
      labelNames: ['outcome'],
      buckets: JOB_BUCKETS,
      registers,
    });
    this.reportCreation = new Histogram({
      name: 'sharemap_report_creation_seconds',
      help: 'Analyses of report creation, by outcome (created, failed)',
      labelNames: ['outcome'],
      buckets: JOB_BUCKETS,
      registers,
    });
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []): Counter<L> =>
      new Counter<L>({ name, help, labelNames, registers });
    this.gcRuns = counter('sharemap_gc_runs_total', 'Garbage collections, by outcome (done, failed)', [
      'outcome',
    ]);
    this.gcRowsExpired = counter(
      'sharemap_gc_rows_expired_total',
      'Rows deleted by retention, by kind (reports, images, manifests, mount_configs, residency_inputs)',
      ['kind'],
    );
    this.gcBlobs = counter(
      'sharemap_gc_blobs_collected_total',
      'Blobs removed by garbage collection (no row named them past the grace period)',
    );
    this.gcBytes = counter(
      'sharemap_gc_bytes_collected_total',
      'Bytes of the blobs removed by garbage collection',
    );
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };
    gauge('sharemap_scan_queue_depth', 'Scans waiting for a worker', () => probe.scansQueued());
    gauge('sharemap_scans_running', 'Scans running in worker threads', () => probe.scansRunning());
    gauge('sharemap_analysis_queue_depth', 'Report analyses waiting for a worker', () =>
      probe.analysesQueued(),
    );
    gauge('sharemap_analyses_running', 'Report analyses running in worker threads', () =>
      probe.analysesRunning(),
    );
    collectDefaultMetrics({ register: this.registry, prefix: 'sharemap_' });
  }

  /** Seconds since `start` (process.hrtime.bigint()). */
  static since(start: bigint): number {
    return Number(process.hrtime.bigint() - start) / 1e9;
  }

  /**
   * Counts each request once its answer is ended (or its connection closed): method,
   * route pattern, status, latency and the body bytes received. Body bytes are counted by
   * wrapping `req.push` (as guards.ts does): a 'data' listener would start the stream
   * flowing before the route reads it.
   */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const start = process.hrtime.bigint();
      let bodyBytes = 0;
      const push = req.push.bind(req);
      req.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
        if (chunk) bodyBytes += (chunk as Buffer).length;
        return push(chunk, encoding);
      };
      let counted = false;
      const count = (): void => {
        if (counted) return;
        counted = true;
        const labels = {
          method: methodLabel(req.method),
          route: routeLabel(req, res),
          status: String(res.statusCode),
        };
        this.httpRequests.inc(labels);
        this.httpDuration.observe(labels, Metrics.since(start));
        if (bodyBytes > 0) this.uploadBytes.inc({ route: labels.route }, bodyBytes);
      };
      // Counted when the route ends its answer (before the last bytes reach the client, so a
      // client that has read an answer finds it counted), or when the connection closes first.
      const end = res.end.bind(res) as (...a: unknown[]) => Response;
      res.end = ((...a: unknown[]) => {
        count();
        return end(...a);
      }) as Response['end'];
      res.once('close', count);
      next();
    };
  }
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Any other method (hostile requests send anything) is counted as OTHER. */
const methodLabel = (m: string): string => (METHODS.has(m) ? m : 'OTHER');

/**
 * The Express pattern that answered (`/api/reports/:id`; the API routers are mounted at
 * /api), `unmatched` for a 404 no route took, `other` for answers given before routing
 * (guards, static files of the web UI).
 */
export function routeLabel(req: Request, res: Response): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (route && typeof route.path === 'string') {
    const api = req.originalUrl.startsWith('/api/') || req.originalUrl === '/api';
    return (api && !route.path.startsWith('/api') ? '/api' : '') + route.path;
  }
  if (route) return 'pattern';
  return res.statusCode === 404 ? 'unmatched' : 'other';
}
