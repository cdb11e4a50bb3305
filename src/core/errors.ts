/**
 * Errors pcc reports to a person. Each carries what went wrong, what to do about it, and the exit
 * code the CLI ends with, so no caller has to guess or print a stack trace.
 */
export class PccError extends Error {
  /** One line that says how to fix the problem, shown after the message. */
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A configuration file or variable holds something pcc cannot accept. Exit code 2. */
export class ConfigError extends PccError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: 2 });
  }
}

/** The command line is wrong. Exit code 2. */
export class UsageError extends PccError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: 2 });
  }
}

/** Formats any thrown value as the lines a person reads: message, then the hint. */
export function describeError(error: unknown): string {
  if (error instanceof PccError) {
    return error.hint ? `${error.message}\n  ${error.hint}` : error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
