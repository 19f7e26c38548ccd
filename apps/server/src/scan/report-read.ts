/**
 * A stored report (JSON gzip blob) read back into a Report without ever holding its JSON as
 * one string: the gunzipped bytes go through a streaming tokenizer (@streamparser/json) that
 * hands over each top-level field as it completes. A report of millions of rows, whose JSON
 * is past V8's string limit (512 MiB), reads as well as a small one; the memory is that of the
 * Report itself, which the analysis that made the report held too (docs/server.md#renders).
 */
import { JSONParser } from '@streamparser/json';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Report } from '@sharemap/sharing';
import type { BlobStore } from '../storage/blobs.js';

export async function readStoredReport(store: BlobStore, sha256: string): Promise<Report> {
  const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
  // Entries, then Object.fromEntries: a key such as "__proto__" stays data.
  const fields: [string, unknown][] = [];
  let failure: Error | null = null;
  parser.onValue = ({ value, key }) => {
    fields.push([String(key), value]);
  };
  parser.onError = (e: Error) => {
    failure ??= e;
  };
  const text = pipeline(store.createReadStream(sha256), createGunzip(), () => undefined);
  for await (const chunk of text) {
    parser.write(chunk as Uint8Array);
    if (failure) break;
  }
  if (!failure && !parser.isEnded)
    try {
      parser.end(); // throws on a truncated document
    } catch (e) {
      failure = e as Error;
    }
  if (failure) throw new Error(`stored report ${sha256} is not valid JSON: ${(failure as Error).message}`);
  return Object.fromEntries(fields) as unknown as Report;
}
