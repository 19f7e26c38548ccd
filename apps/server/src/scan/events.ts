/**
 * Image events (`image:<id>` on `ctx.bus`: ('progress', ScanProgress) and ('status', status))
 * across replicas. Locally they are EventEmitter events; on PostgreSQL every event is also sent
 * with NOTIFY on one channel, and each replica LISTENs and re-emits the events of the others,
 * so a server-sent event stream or a report waiting for a scan on replica A sees a scan that
 * replica B runs (docs/server.md#several-replicas).
 */
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import pg from 'pg';
import type { ScanProgress } from '../context.js';
import type { Logger } from '../log.js';

/** The NOTIFY channel of image events. */
export const IMAGE_EVENTS_CHANNEL = 'sharemap_image_events';

/**
 * Progress of one image is sent to the other replicas at most this often (a scan reports every
 * 256 files: millions of files would be thousands of NOTIFYs); status events always go.
 */
export const REMOTE_PROGRESS_INTERVAL_MS = 200;

/** Wait before a lost LISTEN connection is opened again. */
export const RELISTEN_DELAY_MS = 1000;

export type ImageEventKind = 'progress' | 'status';

/** One NOTIFY payload (well below PostgreSQL's 8000-byte limit). */
interface Wire {
  /** The replica that sent it (its own events are not re-emitted). */
  o: string;
  i: string;
  k: ImageEventKind;
  d: unknown;
}

/** Where image events go: the process's bus, and the other replicas when there is a relay. */
export interface ImageEvents {
  publish(imageId: string, kind: ImageEventKind, data: unknown): void;
  close(): Promise<void>;
}

/** One process (SQLite): events stay on the bus. */
export function localImageEvents(bus: EventEmitter): ImageEvents {
  return {
    publish: (id, kind, data) => bus.emit(`image:${id}`, kind, data),
    close: () => Promise.resolve(),
  };
}

/**
 * Several replicas: LISTEN on a connection of its own (a pooled one would be handed to other
 * queries), NOTIFY through the pool. NOTIFYs are sent one after the other, so the other
 * replicas receive one scan's events in the order they happened (PostgreSQL delivers
 * notifications in commit order).
 */
export class PgImageEvents implements ImageEvents {
  readonly origin = randomUUID();
  private listener: pg.Client | null = null;
  private sending: Promise<void> = Promise.resolve();
  private readonly lastProgress = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
    private readonly bus: EventEmitter,
    private readonly progress: Map<string, ScanProgress>,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => this.receive(msg.payload));
    client.on('error', (e) => {
      this.log.warn('image events: LISTEN connection lost', { error: e.message });
      this.relisten(client);
    });
    await client.connect();
    await client.query(`LISTEN ${IMAGE_EVENTS_CHANNEL}`);
    this.listener = client;
  }

  private relisten(old: pg.Client): void {
    if (this.closed || this.listener !== old) return;
    this.listener = null;
    old.end().catch(() => undefined);
    const retry = (): void => {
      if (this.closed) return;
      this.start().catch((e: unknown) => {
        this.log.warn('image events: cannot LISTEN', { error: (e as Error).message });
        setTimeout(retry, RELISTEN_DELAY_MS).unref();
      });
    };
    setTimeout(retry, RELISTEN_DELAY_MS).unref();
  }

  publish(imageId: string, kind: ImageEventKind, data: unknown): void {
    this.bus.emit(`image:${imageId}`, kind, data);
    if (this.closed) return;
    if (kind === 'progress') {
      const now = Date.now();
      if (now - (this.lastProgress.get(imageId) ?? 0) < REMOTE_PROGRESS_INTERVAL_MS) return;
      this.lastProgress.set(imageId, now);
    } else {
      this.lastProgress.delete(imageId);
    }
    const payload = JSON.stringify({ o: this.origin, i: imageId, k: kind, d: data } satisfies Wire);
    this.sending = this.sending
      .then(() => this.pool.query('SELECT pg_notify($1, $2)', [IMAGE_EVENTS_CHANNEL, payload]))
      .then(
        () => undefined,
        (e: unknown) =>
          this.log.warn('image events: NOTIFY failed', { imageId, error: (e as Error).message }),
      );
  }

  private receive(payload: string | undefined): void {
    let w: Wire;
    try {
      w = JSON.parse(payload ?? '') as Wire;
    } catch {
      return; // not ours
    }
    if (w.o === this.origin || typeof w.i !== 'string') return;
    if (w.k === 'progress') {
      const p = w.d as ScanProgress;
      this.progress.set(w.i, { files: p.files, bytesHashed: p.bytesHashed });
    } else if (w.k !== 'status') return;
    this.bus.emit(`image:${w.i}`, w.k, w.d);
  }

  /** Stop listening; the NOTIFYs already sent are awaited (the pool is closed after this). */
  async close(): Promise<void> {
    this.closed = true;
    await this.sending;
    const l = this.listener;
    this.listener = null;
    await l?.end().catch(() => undefined);
  }
}
