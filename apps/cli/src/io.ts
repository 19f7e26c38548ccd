/** What a command may touch of the process, injectable so tests run commands in-process. */
export interface Out {
  /** Text, or bytes of whole UTF-8 characters (a streamed manifest's buffers). */
  write(chunk: string | Uint8Array): unknown;
  /** True when writing to a terminal (progress bars, colours); false in CI logs and pipes. */
  isTTY?: boolean;
  /** Terminal width, when a TTY. */
  columns?: number;
}

export interface Io {
  stdout: Out;
  stderr: Out;
  env: Record<string, string | undefined>;
  /** Directory relative paths (and `.sharemap.yml`) are resolved against. */
  cwd: string;
  /** Abort long operations (Ctrl-C). */
  signal?: AbortSignal;
}

/** The real process. */
export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Collects output in memory (tests, and renderers that build a string first). */
export class BufferOut implements Out {
  text = '';
  isTTY = false;
  columns = 80;
  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }
}
