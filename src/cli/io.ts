import type { Writable } from 'node:stream';

/** What a command may touch of its surroundings; tests pass their own. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Whether stdin and stdout are a terminal (the TUI needs one). */
  interactive: boolean;
}

export function print(stream: Writable, text = ''): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(io: CliIo, value: unknown): void {
  print(io.stdout, JSON.stringify(value, null, 2));
}
