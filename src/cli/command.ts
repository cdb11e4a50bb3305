import type { CliIo } from './io.js';

/** A headless command: its name, a one-line summary and usage for help, and what it does. */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  /** Extra lines for `pcc help COMMAND`. */
  details?: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** The options most commands take (parseArgs), --json and --project. */
export const common = { json: { type: 'boolean', default: false }, project: { type: 'string' } } as const;
