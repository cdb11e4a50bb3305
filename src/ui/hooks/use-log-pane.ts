import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError } from '../../core/errors.js';
import type { Engine } from '../../engine/engine.js';
import { followRun } from '../../engine/runs.js';
import { FOLLOW, LogRing, scrollBy, scrollToTop, visibleLines, type LogLine, type LogView } from '../log-buffer.js';
import { loadTail, logKey, sourceTitle, type LogSource } from '../log-sources.js';
import { contentLines } from '../panels/panel.js';
import type { KeyHold } from './use-key-hold.js';
import { useRedraw } from './use-redraw.js';

/** Lines the log pane keeps in memory (older ones stay in the log files). */
const LOG_CAPACITY = 10_000;

export interface LogPane {
  /** The title of the log shown. */
  title: string;
  /** The lines in view. */
  lines: LogLine[];
  view: LogView;
  filter: string;
  filterEditing: boolean;
  /** Whether the pane shows `key`'s log: the only one whose live lines it keeps. The same function every render. */
  isShowing(key: string): boolean;
  /** Adds a line to the log shown. The same function every render. */
  append(line: string): void;
  /** Opens a source: the tail of its file, then its live lines, following (a running run's are streamed while shown). */
  show(source: LogSource): void;
  scroll(delta: number): void;
  pageUp(): void;
  pageDown(): void;
  scrollToTop(): void;
  follow(): void;
  /** Gives the keys to the filter's input line. */
  editFilter(): void;
  setFilter(text: string): void;
  /** Leaves the filter input, keeping the filter or clearing it. */
  endFilter(keep: boolean): void;
}

/** The log pane: the shown source's last lines in a ring, followed or scrolled, optionally filtered. */
export function useLogPane(engine: Engine, paneHeight: number, keys: KeyHold): LogPane {
  const [ring] = useState(() => new LogRing(LOG_CAPACITY));
  const [source, setSource] = useState<LogSource>({ kind: 'activity' });
  // Read by `isShowing`, which engine events and background work call between renders.
  const sourceKey = useRef(logKey(source));
  const [view, setView] = useState<LogView>(FOLLOW);
  const [filter, setFilter] = useState('');
  const [filterEditing, setFilterEditing] = useState(false);
  const redraw = useRedraw();
  // Streams the output of the run shown while it runs; aborted when the pane shows another source or the UI quits.
  const runFollower = useRef<AbortController | undefined>(undefined);

  // The pane opens on pcc's activity, read after the first frame.
  useEffect(() => {
    loadTail(engine, { kind: 'activity' }, ring);
  }, [engine, ring]);
  useEffect(() => () => runFollower.current?.abort(), []);

  const isShowing = useCallback((key: string) => key === sourceKey.current, []);
  const append = useCallback((line: string) => ring.push(line), [ring]);

  /** Streams a running run's output as `run.output` events, which reach the pane while it shows the run. */
  const followWhileShown = (run: string) => {
    const abort = new AbortController();
    runFollower.current = abort;
    const note = (line: string) => {
      if (abort.signal.aborted) return; // the pane shows another source by now
      ring.push(`! ${line}`);
      redraw();
    };
    followRun(engine, run, abort.signal).then(
      (record) => {
        if (record.state === 'running') note(`${run} runs, but init (its swarm's manager) is not running: resume init, then press l again`);
      },
      (error: unknown) => note(`following ${run}: ${describeError(error).replace(/\n\s*/g, ' — ')}`),
    );
  };

  const matching = ring.lines(filter);
  // The filter's line takes one of the pane's rows.
  const rows = Math.max(1, contentLines(paneHeight) - (filterEditing || filter ? 1 : 0));
  const scroll = (delta: number) => setView(scrollBy(matching, view, rows, delta));
  return {
    title: sourceTitle(source),
    lines: visibleLines(matching, view, rows),
    view,
    filter,
    filterEditing,
    isShowing,
    append,
    show: (next: LogSource) => {
      runFollower.current?.abort();
      runFollower.current = undefined;
      sourceKey.current = logKey(next);
      loadTail(engine, next, ring);
      setSource(next);
      setView(FOLLOW);
      // followRun returns at once for a run that ended: its file holds all it printed.
      if (next.kind === 'run') followWhileShown(next.run);
    },
    scroll,
    pageUp: () => scroll(-rows),
    pageDown: () => scroll(rows),
    scrollToTop: () => setView(scrollToTop(matching)),
    follow: () => setView(FOLLOW),
    editFilter: () => {
      keys.hold(true);
      setFilterEditing(true);
    },
    setFilter,
    endFilter: (keep: boolean) => {
      keys.hold(false);
      setFilterEditing(false);
      if (!keep) setFilter('');
      setView(FOLLOW);
    },
  };
}
