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

/** Rows as columns padded to their widest cell, two spaces apart (the first row is the header). */
export function printTable(stream: Writable, rows: string[][]): void {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  for (const row of rows) print(stream, row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
}
