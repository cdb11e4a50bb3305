/**
 * The terminal while the UI owns it: the alternate screen with the cursor hidden, and every other
 * write to stdout or stderr (console output, libraries' logs) diverted to the log store instead of the
 * screen. `restore` puts the terminal back exactly once — on quit, on a crash, and on SIGINT, SIGTERM
 * or SIGHUP.
 */

const ENTER = '\x1b[?1049h\x1b[H\x1b[2J\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

export interface FullScreen {
  /** The stream Ink renders to: the real stdout, the only writer left on the screen. */
  stdout: NodeJS.WriteStream;
  restore(): void;
}

type Write = NodeJS.WriteStream['write'];

/** A write that goes nowhere but still calls its callback, as a stream would. */
function discard(_chunk: string | Uint8Array, ...rest: unknown[]): boolean {
  const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
  if (callback) process.nextTick(callback);
  return true;
}

export function enterFullScreen(onOutput: (stream: 'stdout' | 'stderr', text: string) => void): FullScreen {
  const { stdout, stderr, stdin } = process;
  const stdoutWrite = stdout.write;
  const stderrWrite = stderr.write;
  const realWrite = stdoutWrite.bind(stdout) as Write;
  let restored = false;
  // Once the terminal is given back, Ink's last frame (it unmounts on process exit, after a signal
  // handler already restored) must not land on the main screen.
  const screenWrite = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
    restored ? discard(chunk, ...rest) : realWrite(chunk as string, ...(rest as []))) as Write;
  // Ink gets stdout itself (size, resize events, isTTY) with the real write; everyone else's write is diverted.
  const screen = new Proxy(stdout, {
    get(target, property) {
      if (property === 'write') return screenWrite;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const divert = (stream: 'stdout' | 'stderr'): Write =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      onOutput(stream, typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return discard(chunk, ...rest);
    }) as Write;

  const restore = () => {
    if (restored) return;
    restored = true;
    stdout.write = stdoutWrite;
    stderr.write = stderrWrite;
    process.off('exit', restore);
    process.off('uncaughtException', crash);
    process.off('unhandledRejection', crash);
    for (const [signal, handler] of handlers) process.off(signal, handler);
    if (stdin.isTTY) {
      try {
        stdin.setRawMode(false);
      } catch {
        // stdin already closed: nothing to reset
      }
    }
    realWrite(LEAVE);
  };
  const crash = (error: unknown) => {
    restore();
    stderr.write(`pcc: the terminal UI stopped on an unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  };
  const handlers = Object.entries(SIGNALS).map(([signal, number]) => {
    const handler = () => {
      restore();
      process.exit(128 + number);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  process.on('exit', restore);
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  realWrite(ENTER);
  stdout.write = divert('stdout');
  stderr.write = divert('stderr');
  return { stdout: screen, restore };
}
