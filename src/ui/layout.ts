import { useStdout } from 'ink';
import { useEffect, useState } from 'react';

export interface Size {
  width: number;
  height: number;
}

export interface Layout {
  root: Size;
  hosts: Size;
  registry: Size;
  builds: Size;
  peers: Size;
  logs: Size;
}

/**
 * Panel sizes for a terminal. The root is one line shorter than the terminal: a frame as tall as the
 * screen makes Ink clear and redraw the whole screen on every update (flicker), and a taller one scrolls.
 */
export function layout(columns: number, rows: number): Layout {
  const height = Math.max(1, rows - 1);
  const body = Math.max(0, height - 2); // header and status line
  let hosts = Math.max(5, Math.round(body * 0.3));
  let middle = Math.max(5, Math.round(body * 0.25));
  let logs = body - hosts - middle;
  if (logs < 4) {
    // A short terminal: the log pane keeps a few lines, the others give them up.
    const missing = 4 - logs;
    hosts = Math.max(3, hosts - Math.ceil(missing / 2));
    middle = Math.max(3, middle - Math.floor(missing / 2));
    logs = Math.max(0, body - hosts - middle);
  }
  const registry = Math.floor(columns * 0.36);
  const builds = Math.floor(columns * 0.34);
  return {
    root: { width: columns, height },
    hosts: { width: columns, height: hosts },
    registry: { width: registry, height: middle },
    builds: { width: builds, height: middle },
    peers: { width: columns - registry - builds, height: middle },
    logs: { width: columns, height: logs },
  };
}

/** The terminal's size, updated when it is resized. */
export function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ columns: stdout.columns || 100, rows: stdout.rows || 30 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);
  return size;
}
