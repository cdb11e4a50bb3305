import { afterEach, describe, expect, it, vi } from 'vitest';
import { enterFullScreen } from '../../src/ui/terminal.js';

describe('the terminal while the UI owns it', () => {
  afterEach(() => vi.restoreAllMocks());

  it('diverts other writes to the log, and drops frames Ink writes after the terminal was given back', () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const diverted: string[] = [];
    const screen = enterFullScreen((_stream, text) => diverted.push(text));
    expect(written.join('')).toContain('\x1b[?1049h');

    process.stdout.write('a library talking\n');
    screen.stdout.write('frame 1');
    // Ink unmounts on process exit, after a signal handler restored the terminal: its last frame comes late.
    screen.restore();
    screen.stdout.write('late frame');
    screen.restore();

    expect(diverted.join('')).toContain('a library talking');
    expect(written.join('')).not.toContain('a library talking');
    expect(written).toContain('frame 1');
    expect(written.join('')).not.toContain('late frame');
    // Given back exactly once, and last.
    expect(written.filter((chunk) => chunk.includes('\x1b[?1049l'))).toHaveLength(1);
    expect(written.at(-1)).toContain('\x1b[?1049l');
  });

  it('gives the terminal back on a crash, then says what happened and exits 1', () => {
    const written: string[] = [];
    const errors: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    });
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const vitestHandlers = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    try {
      enterFullScreen(() => undefined);
      process.emit('uncaughtException', new Error('a bug in a panel'));
    } finally {
      for (const handler of vitestHandlers) process.on('uncaughtException', handler);
    }
    expect(written.at(-1)).toContain('\x1b[?1049l');
    expect(errors.join('')).toContain('pcc: the terminal UI stopped on an unexpected error: Error: a bug in a panel');
    expect(exit).toHaveBeenCalledWith(1);
  });
});
