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
  const known = error instanceof PccError ? error : fileSystemError(error);
  if (known) return known.hint ? `${known.message}\n  ${known.hint}` : known.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** What a file operation that failed means to a person, for the errors Node reports with a path. */
const FILE_ERRORS: Record<string, (file: string) => [message: string, hint: string]> = {
  EACCES: (file) => [`permission denied: ${file}`, `Check who owns it and its mode (ls -ld ${file}): pcc runs as you and needs to read and write it.`],
  EPERM: (file) => [`operation not permitted on ${file}`, `Check who owns it and its mode (ls -ld ${file}).`],
  EISDIR: (file) => [`${file} is a folder where pcc expects a file`, 'Move the folder aside, then run the command again.'],
  ENOTDIR: (file) => [`part of ${file} is a file where pcc expects a folder`, 'Move that file aside, then run the command again.'],
  EEXIST: (file) => [`${file} is in the way: it exists already`, 'Move it aside, then run the command again.'],
  EROFS: (file) => [`${file} is on a read-only file system`, 'Run pcc where the project and your home folder can be written.'],
  ENOSPC: (file) => [`no space left on the device for ${file}`, 'Free some space, then run the command again.'],
};

function fileSystemError(error: unknown): PccError | undefined {
  const { code, path } = (error ?? {}) as { code?: unknown; path?: unknown };
  const explain = typeof code === 'string' ? FILE_ERRORS[code] : undefined;
  if (!explain || typeof path !== 'string') return undefined;
  const [message, hint] = explain(path);
  return new PccError(message, { hint });
}
