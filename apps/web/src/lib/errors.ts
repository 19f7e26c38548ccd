/**
 * The one place the web UI turns an error into words: an API error (`{code, message, line,
 * column}`), a failed scan's `{code, message}` or a thrown Error. Messages from the EROFS reader
 * and the mount parsers already begin with their code ("EBADMAGIC: not an EROFS image: ..."),
 * so the code is put in front only when the message does not carry it yet (never
 * "EBADMAGIC: EBADMAGIC: ...").
 */
import { ApiError } from '../api/client';

/** `code: message`, without repeating a code the message already starts with. */
export function codedMessage(code: string | undefined, message: string): string {
  if (!code || message.startsWith(`${code}:`)) return message;
  return `${code}: ${message}`;
}

/** Where in its input a parse error is (1-based), when the server said. */
export interface ErrorPlace {
  line: number;
  column?: number;
}

/** The place an API error names, or null. */
export function placeOf(e: unknown): ErrorPlace | null {
  if (!(e instanceof ApiError) || !e.body.line) return null;
  return e.body.column ? { line: e.body.line, column: e.body.column } : { line: e.body.line };
}

/** One line for the user: code (once), message, and "(line L:C)" when the message lacks it. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    const b = e.body;
    const where = b.line
      ? ` (${b.file ? b.file + ':' : 'line '}${b.line}${b.column ? ':' + b.column : ''})`
      : '';
    return codedMessage(b.code, b.message) + (b.line && b.message.includes(`:${b.line}`) ? '' : where);
  }
  if (e && typeof e === 'object' && 'code' in e && 'message' in e && !(e instanceof Error))
    return codedMessage(String((e as { code: unknown }).code), String((e as { message: unknown }).message));
  return e instanceof Error ? e.message : String(e);
}
