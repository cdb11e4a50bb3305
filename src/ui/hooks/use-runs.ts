import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError } from '../../core/errors.js';
import type { Engine } from '../../engine/engine.js';
import type { RunRecord } from '../../engine/run-records.js';
import { finishRuns } from '../../engine/runs.js';

/** How often the running runs are checked with init's swarm (their replicas' hosts, whether they ended). */
export const RUNS_POLL_MS = 2000;

export interface Runs {
  /** The recorded runs, newest first. */
  list: RunRecord[];
  /** Why the runs could not be read or checked the last time; cleared by the next that works. */
  error: string | undefined;
  /** Reads the records again now (cheap: files in `.pcc/runs/`) and returns them. */
  reload(): RunRecord[];
  /** Asks the engine now what became of the running runs (after the user acted); polling goes on while any runs. */
  check(): void;
}

/**
 * The runs of `pcc run`, for the Jobs panel: read at start and after run events, and checked with
 * the engine (`finishRuns`) every RUNS_POLL_MS while some run is running, else not at all.
 */
export function useRuns(engine: Engine): Runs {
  const [list, setList] = useState<RunRecord[]>([]);
  const [error, setError] = useState<string | undefined>();
  // One check at a time: a slow SSH connection to init must not pile checks up.
  const checking = useRef(false);

  const reload = useCallback(() => {
    try {
      const runs = engine.runs.list();
      setList(runs);
      setError(undefined);
      return runs;
    } catch (failure) {
      setError(oneLine(failure));
      return [];
    }
  }, [engine]);

  const check = useCallback(() => {
    if (checking.current) return;
    checking.current = true;
    finishRuns(engine)
      .then(
        (runs) => {
          setList(runs);
          setError(undefined);
        },
        (failure: unknown) => setError(oneLine(failure)),
      )
      .finally(() => (checking.current = false));
  }, [engine]);

  // After the first frame: what `.pcc/runs/` holds.
  useEffect(() => void reload(), [reload]);

  // A run started or finished (here, or by a follower or a check): its record changed.
  useEffect(
    () =>
      engine.events.subscribe((event) => {
        if (event.type === 'run' && event.phase !== 'replica') reload();
      }),
    [engine, reload],
  );

  const running = list.some((run) => run.state === 'running');
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(check, RUNS_POLL_MS);
    return () => clearInterval(timer);
  }, [running, check]);

  return { list, error, reload, check };
}

function oneLine(error: unknown): string {
  return describeError(error).replace(/\n\s*/g, ' — ');
}
