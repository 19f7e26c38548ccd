/** Line splitting and located JSON for the residency parsers, under the bounds of limits.ts. */
import { parseJsonLocated } from '../mounts/json.js';
import { splitLines } from '../mounts/text.js';
import { asResidencyError, ResidencyError } from './errors.js';
import {
  LOCATED_JSON_BYTES,
  MAX_RESIDENCY_INPUT_BYTES,
  MAX_RESIDENCY_LINE_LENGTH,
  MAX_RESIDENCY_RECORDS,
} from './limits.js';

/** Throws `too-large` when the text cannot fit MAX_RESIDENCY_INPUT_BYTES (UTF-8 is at most 3 bytes per UTF-16 unit). */
export function checkInputSize(text: string, file: string): void {
  if (text.length * 3 <= MAX_RESIDENCY_INPUT_BYTES) return;
  if (
    text.length > MAX_RESIDENCY_INPUT_BYTES ||
    new TextEncoder().encode(text).length > MAX_RESIDENCY_INPUT_BYTES
  )
    throw new ResidencyError('too-large', `input larger than ${MAX_RESIDENCY_INPUT_BYTES} bytes`, file, 1, 1);
}

/** Records take at most two lines each (vmtouch), plus a few lines of header and summary. */
const RESIDENCY_BOUNDS = {
  maxBytes: MAX_RESIDENCY_INPUT_BYTES,
  maxLines: 2 * MAX_RESIDENCY_RECORDS + 64,
  maxLineLength: MAX_RESIDENCY_LINE_LENGTH,
};

/** Lines (LF or CRLF; a trailing newline adds no line) within the residency bounds of limits.ts. */
export function residencyLines(text: string, file: string): string[] {
  return asResidencyError(() => splitLines(text, file, RESIDENCY_BOUNDS));
}

export function checkRecordCount(count: number, file: string, line: number): void {
  if (count > MAX_RESIDENCY_RECORDS)
    throw new ResidencyError('too-large', `more than ${MAX_RESIDENCY_RECORDS} files`, file, line, 1);
}

/**
 * JSON with locations on demand: JSON.parse first (fast, no per-value bookkeeping for millions
 * of records); the located parser of mounts/json.ts runs only to place an error.
 */
export class LocatedJson {
  readonly value: unknown;
  private positions: Map<string, { line: number; column: number }> | null = null;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {
    checkInputSize(text, file);
    try {
      this.value = JSON.parse(text);
    } catch {
      // Not JSON: the located parser says where (and throws).
      asResidencyError(() => parseJsonLocated(text, file));
      throw new ResidencyError('bad-json', 'invalid JSON', file, 1, 1);
    }
  }

  /** Throws a `bad-record` error at the value the JSON pointer names (or its nearest located parent). */
  fail(pointer: string, problem: string): never {
    this.positions ??= asResidencyError(() => parseJsonLocated(this.text, this.file)).valuePositions;
    let ptr = pointer;
    for (;;) {
      const p = this.positions.get(ptr);
      if (p) throw new ResidencyError('bad-record', problem, this.file, p.line, p.column);
      if (ptr === '') throw new ResidencyError('bad-record', problem, this.file, 1, 1);
      ptr = ptr.slice(0, ptr.lastIndexOf('/'));
    }
  }

  /**
   * 1-based line and column of the value a JSON pointer names, for records' origins. Located
   * only for inputs up to LOCATED_JSON_BYTES (the located parser keeps a position per value);
   * records of larger inputs point at 1:1.
   */
  at(pointer: string): { line: number; column: number } {
    if (this.text.length > LOCATED_JSON_BYTES) return { line: 1, column: 1 };
    this.positions ??= asResidencyError(() => parseJsonLocated(this.text, this.file)).valuePositions;
    return this.positions.get(pointer) ?? { line: 1, column: 1 };
  }
}

/** A whole number of pages in [0, max], else null. */
export function pageCount(v: unknown, max: number): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? v : null;
}
