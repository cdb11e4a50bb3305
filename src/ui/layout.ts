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
  jobs: Size;
  logs: Size;
}

/** The smallest a panel gets in a short terminal: its border and title. */
const MIN_PANEL = 3;
/** The log pane keeps this many lines (when the terminal has them) before the other panels give up any. */
const MIN_LOGS = 4;

/**
 * Panel sizes for a terminal. The root is one line shorter than the terminal: a frame as tall as the
 * screen makes Ink clear and redraw the whole screen on every update (flicker), and a taller one scrolls.
 */
export function layout(columns: number, rows: number): Layout {
  const height = Math.max(1, rows - 1);
  const body = Math.max(0, height - 2); // header and status line
  // Hosts, the registry/builds/peers row, Jobs; the log pane takes the rest.
  const rowHeights = [Math.max(5, Math.round(body * 0.25)), Math.max(5, Math.round(body * 0.2)), Math.max(5, Math.round(body * 0.22))];
  // A short terminal: the others give up lines in turn, so the log pane keeps a few.
  for (let turn = 0; body - sum(rowHeights) < MIN_LOGS && rowHeights.some((lines) => lines > MIN_PANEL); turn++) {
    const index = turn % rowHeights.length;
    if ((rowHeights[index] ?? 0) > MIN_PANEL) rowHeights[index] = (rowHeights[index] ?? 0) - 1;
  }
  const [hosts = MIN_PANEL, middle = MIN_PANEL, jobs = MIN_PANEL] = rowHeights;
  const registry = Math.floor(columns * 0.36);
  const builds = Math.floor(columns * 0.34);
  return {
    root: { width: columns, height },
    hosts: { width: columns, height: hosts },
    registry: { width: registry, height: middle },
    builds: { width: builds, height: middle },
    peers: { width: columns - registry - builds, height: middle },
    jobs: { width: columns, height: jobs },
    logs: { width: columns, height: Math.max(0, body - sum(rowHeights)) },
  };
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
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
