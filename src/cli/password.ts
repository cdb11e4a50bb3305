import type { Readable, Writable } from 'node:stream';

/** Everything on standard input, less its last newline: `--password-stdin`, as `docker login` takes it. */
export async function readAllStdin(stdin: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stdin) text += String(chunk);
  return text.replace(/\r?\n$/, '');
}

/**
 * Asks for a password on the terminal without echoing it. Ctrl-C and Ctrl-D give up (undefined); the
 * password is only handed back, never kept or printed.
 */
export function promptPassword(prompt: string, stdin: NodeJS.ReadStream, stderr: Writable): Promise<string | undefined> {
  return new Promise((resolve) => {
    let typed = '';
    stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    const finish = (answer: string | undefined) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      resolve(answer);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish(typed);
        if (char === '\u0003' || char === '\u0004') return finish(undefined);
        typed = char === '\u007f' || char === '\b' ? typed.slice(0, -1) : typed + char;
      }
    };
    stdin.on('data', onData);
  });
}
