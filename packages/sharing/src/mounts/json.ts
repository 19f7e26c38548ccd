/**
 * A small JSON parser (RFC 8259) that remembers where every value starts, so that plan
 * validation can point at the offending field (`plan.json:12:17`). Bounded by MAX_JSON_DEPTH.
 */
import { MountConfigError } from './errors.js';
import { MAX_JSON_DEPTH } from './limits.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface Located {
  value: Json;
  /** JSON pointer ("/mounts/0/source") -> 1-based line and column of the value (or of the key for members). */
  positions: Map<string, { line: number; column: number }>;
  /** JSON pointer -> 1-based line and column where the value itself starts. */
  valuePositions: Map<string, { line: number; column: number }>;
}

export function parseJsonLocated(text: string, file: string): Located {
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const positions = new Map<string, { line: number; column: number }>();
  const valuePositions = new Map<string, { line: number; column: number }>();
  const here = (): { line: number; column: number } => ({ line, column: i - lineStart + 1 });
  const fail = (problem: string): never => {
    const p = here();
    throw new MountConfigError('bad-json', `invalid JSON: ${problem}`, file, p.line, p.column);
  };
  const ws = (): void => {
    for (;;) {
      const c = text[i];
      if (c === '\n') {
        line++;
        lineStart = ++i;
      } else if (c === ' ' || c === '\t' || c === '\r') i++;
      else return;
    }
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    for (;;) {
      const c = text[i];
      if (c === undefined || c === '\n') fail('unterminated string');
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        const e = text[i + 1];
        const map: Record<string, string> = {
          '"': '"',
          '\\': '\\',
          '/': '/',
          b: '\b',
          f: '\f',
          n: '\n',
          r: '\r',
          t: '\t',
        };
        if (e === 'u') {
          const h = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(h, 16));
          i += 6;
        } else if (e !== undefined && map[e] !== undefined) {
          out += map[e];
          i += 2;
        } else fail('bad escape');
      } else {
        if (c! < ' ') fail('control character in string');
        out += c;
        i++;
      }
    }
  };
  const value = (ptr: string, depth: number): Json => {
    if (depth > MAX_JSON_DEPTH) fail(`nested deeper than ${MAX_JSON_DEPTH}`);
    ws();
    if (!positions.has(ptr)) positions.set(ptr, here());
    valuePositions.set(ptr, here());
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: { [k: string]: Json } = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const keyPos = here();
        const k = str();
        const childPtr = `${ptr}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        positions.set(childPtr, keyPos);
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        if (Object.prototype.hasOwnProperty.call(obj, k)) fail(`duplicate key "${k}"`);
        obj[k] = value(childPtr, depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const arr: Json[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(`${ptr}/${arr.length}`, depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 64));
    if (!m) fail(c === undefined ? 'unexpected end of input' : `unexpected character "${c}"`);
    const tok = m![0];
    i += tok.length;
    return tok === 'true' ? true : tok === 'false' ? false : tok === 'null' ? null : Number(tok);
  };
  const v = value('', 0);
  ws();
  if (i < text.length) fail('trailing characters after the JSON value');
  return { value: v, positions, valuePositions };
}
