/**
 * An input error located at `file:line:column` (house style): a code, the problem a human
 * understands, and where it is. The parsers' errors (MountConfigError, ResidencyError) are this
 * with their own codes.
 */
export class LocatedError<Code extends string> extends Error {
  readonly code: Code;
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units of the line. */
  readonly column: number;
  /** The problem alone, without the location prefix. */
  readonly problem: string;

  constructor(code: Code, problem: string, file: string, line: number, column: number) {
    super(`${file}:${line}:${column}: ${problem}`);
    this.code = code;
    this.problem = problem;
    this.file = file;
    this.line = line;
    this.column = column;
  }
}
