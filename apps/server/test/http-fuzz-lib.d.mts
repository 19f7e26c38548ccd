// Types of http-fuzz-lib.mjs (plain ESM shared by the server tests and scripts/fuzz-http.mjs).

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON, or undefined. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}
export interface RawOptions {
  then?: 'wait' | 'abort' | 'trickle';
  /** With 'abort': reset the connection this long after writing (default at once). */
  abortAfterMs?: number;
  trickle?: Buffer;
  everyMs?: number;
  waitMs?: number;
}
export interface RawResult {
  response: RawResponse | null;
  /** The server closed the connection (or it was reset). */
  closed: boolean;
  /** We gave up waiting (waitMs) without a complete answer. */
  gaveUp: boolean;
}
export function parseResponse(data: Buffer, closed?: boolean): RawResponse | null;
export function rawRequest(port: number, bytes: Buffer | string, opts?: RawOptions): Promise<RawResult>;
export function httpRequest(
  method: string,
  target: string,
  headers?: Record<string, string | number>,
  body?: Buffer | string,
): Buffer;
export const HEALTH_BOUND_MS: number;
export function healthy(
  port: number,
  probes?: number,
  ms?: number,
): Promise<{ ok: boolean; alive: boolean; bestMs: number }>;

export interface Ids {
  image: string;
  manifest: string;
  mountConfig: string;
  report: string;
  name: string;
}
export interface Fixtures {
  image: Buffer;
  manifestNdjson: string;
  fstab: string;
  bomb: Buffer;
  adminToken?: string;
  ids: Ids;
}
export interface Operation {
  method: string;
  path: string;
  target: string;
  bodyTypes: string[];
}
export interface MalformedCase {
  name: string;
  bytes: Buffer;
  then: 'wait' | 'abort' | 'trickle';
  trickle?: Buffer;
  waitMs?: number;
}
export interface Mutation {
  route: string;
  ops: string[];
  bytes: Buffer;
  then: 'wait' | 'abort';
}
export interface Rng {
  next(): number;
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
}
export function fillPath(p: string, ids: Ids): string;
export function operations(
  doc: { paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> },
  ids: Ids,
): Operation[];
export function validRequest(
  op: Operation,
  fx: Fixtures,
): { headers: Record<string, string>; body: Buffer; query?: string };
export function malformedClasses(op: Operation, fx: Fixtures): MalformedCase[];
export function makeBomb(mib?: number): Buffer;
export function rng(seed: number): Rng;
export function mutate(op: Operation, fx: Fixtures, r: Rng): Mutation;
export function judge(result: RawResult, then: string): string | null;
export function prepare(base: string, fx: Omit<Fixtures, 'ids'>): Promise<Ids>;

export interface FuzzFinding {
  seed: number;
  index: number;
  route: string;
  ops: string[];
  then: 'wait' | 'abort';
  /** The request's bytes, base64. */
  bytes: string;
  finding: string;
}
export function fuzzRun(opts: {
  port: number;
  fx: Fixtures;
  ops: Operation[];
  seed: number;
  maxCases?: number;
  deadlineMs: number;
  waitMs?: number;
}): Promise<{ cases: number; findings: FuzzFinding[] }>;
