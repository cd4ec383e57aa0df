/**
 * The one error type of the library. `message` names the bad value; `hint` says what to do.
 * `kind` decides the CLI exit code: 'usage' -> 2 (a bad flag, argument or value the user typed),
 * 'runtime' -> 1 (a file, model, network or disk problem found while working).
 */
export type ZsErrorKind = 'usage' | 'runtime';

export interface ZsErrorOptions {
  hint?: string;
  kind?: ZsErrorKind;
  cause?: unknown;
}

export class ZsError extends Error {
  /** Stable machine-readable code, e.g. 'E_IMAGE_DECODE'. */
  readonly code: string;
  readonly hint: string | undefined;
  readonly kind: ZsErrorKind;

  constructor(code: string, message: string, options: ZsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ZsError';
    this.code = code;
    this.hint = options.hint;
    this.kind = options.kind ?? 'runtime';
  }

  /** Exit code the CLI uses for this error. */
  get exitCode(): 1 | 2 {
    return this.kind === 'usage' ? 2 : 1;
  }

  /** One line: message, then the hint when there is one. */
  toLine(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/** A usage error: the user typed something wrong. Exit code 2. */
export function usageError(code: string, message: string, hint?: string): ZsError {
  return new ZsError(code, message, { kind: 'usage', hint });
}

export function isZsError(e: unknown): e is ZsError {
  return e instanceof ZsError;
}

/** Wraps an unknown thrown value (e.g. a Node fs error) into a ZsError with context, keeping ZsErrors as they are. */
export function wrapError(e: unknown, code: string, message: string, hint?: string): ZsError {
  if (e instanceof ZsError) return e;
  const reason = e instanceof Error ? e.message : String(e);
  return new ZsError(code, `${message}: ${reason}`, { hint, cause: e });
}
