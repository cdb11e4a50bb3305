import { useCallback, useRef, useState } from 'react';
import { describeError } from '../../core/errors.js';
import type { Engine } from '../../engine/engine.js';
import type { Outcome } from '../status-line.js';
import type { LogPane } from './use-log-pane.js';
import { useRedraw } from './use-redraw.js';

export interface BackgroundJobs {
  /**
   * Runs engine work in the background; its outcome goes to the status line, errors also to pcc's
   * activity and, given a `host`, to that host's log. The same function every render.
   */
  run(title: string, work: () => Promise<string | undefined>, host?: string): void;
  /** Titles of the work in flight now. */
  inFlight(): string[];
  /** The latest outcome, for the status line. */
  outcome: Outcome | undefined;
  setOutcome(outcome: Outcome): void;
}

/** The work running in the background and the outcome of the latest. */
export function useBackgroundJobs(engine: Engine, logPane: Pick<LogPane, 'isShowing' | 'append'>): BackgroundJobs {
  const { isShowing, append } = logPane;
  const redraw = useRedraw();
  // Changed in place: quitting asks about the work in flight at the moment of the key.
  const jobs = useRef(new Map<number, string>());
  const nextJob = useRef(0);
  const [outcome, setOutcome] = useState<Outcome | undefined>();

  const run = useCallback(
    (title: string, work: () => Promise<string | undefined>, host?: string) => {
      const id = nextJob.current++;
      jobs.current.set(id, title);
      redraw();
      work()
        .then(
          (result) => setOutcome({ ok: true, text: `${title}: ${result ?? 'done'}` }),
          (error: unknown) => {
            const text = `${title}: ${describeError(error).replace(/\n\s*/g, ' — ')}`;
            setOutcome({ ok: false, text });
            engine.events.emit({ type: 'log', level: 'error', message: text });
            if (host) {
              engine.logs.append(host, `error: ${text}`);
              if (isShowing(host)) append(`error: ${text}`);
            }
          },
        )
        .finally(() => {
          jobs.current.delete(id);
          redraw();
        });
    },
    [engine, isShowing, append, redraw],
  );

  return { run, inFlight: () => [...jobs.current.values()], outcome, setOutcome };
}
