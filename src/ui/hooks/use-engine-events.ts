import { useCallback, useEffect, useState } from 'react';
import { describeError } from '../../core/errors.js';
import { lastBuild } from '../../engine/builds.js';
import { hostCostOf } from '../../engine/cost.js';
import { INIT_SERVICE_STEPS } from '../../engine/controller/init.js';
import { initRegistry, requireInit } from '../../engine/controller/init-clients.js';
import type { Engine } from '../../engine/engine.js';
import type { EngineEvent } from '../../engine/events.js';
import { overlayPeers } from '../../engine/overlay/overlay.js';
import { reconcile } from '../../engine/reconcile.js';
import { relaunchInterrupted } from '../../engine/spot-relaunch.js';
import { setupStepTotals } from '../../engine/setup/setup.js';
import { cleanLine } from '../log-buffer.js';
import { logLineOf } from '../log-sources.js';
import { applyEvent, createModel, syncHosts, type UiModel } from '../model.js';
import type { BackgroundJobs } from './use-background-jobs.js';
import type { LogPane } from './use-log-pane.js';
import { useRedraw } from './use-redraw.js';

/** Engine events are applied in batches, at most one re-render per batch. */
export const EVENT_BATCH_MS = 50;
/** How often the peers panel re-reads the overlay (handshake ages, bytes). */
const PEERS_REFRESH_MS = 30_000;
/** Engine tasks after which the overlay's members may have changed. */
const MEMBERSHIP_TASKS = new Set(['setup', 'init', 'destroy', 'resume']);

/**
 * The UI model, kept current: engine events applied in batches, hosts re-read from state.json after
 * work that changes them, the registry and the overlay's peers re-read when they may have changed.
 * Each event's log line goes to the log pane where it shows that log; pcc's activity also to its file.
 */
export function useEngineEvents(
  engine: Engine,
  jobs: Pick<BackgroundJobs, 'run' | 'setOutcome'>,
  logPane: Pick<LogPane, 'isShowing' | 'append'>,
): { model: UiModel; refreshRegistry: () => void } {
  const { run, setOutcome } = jobs;
  const { isShowing, append } = logPane;
  const redraw = useRedraw();
  const [model] = useState(() => createModel(setupStepTotals(engine.config, INIT_SERVICE_STEPS.length), lastBuild(engine.config.stateDir)));

  const syncFromState = useCallback(() => {
    try {
      syncHosts(model, Object.values(engine.state.read().hosts), (record) => hostCostOf(engine, record));
    } catch (error) {
      setOutcome({ ok: false, text: describeError(error).replace(/\n\s*/g, ' — ') });
    }
  }, [engine, model, setOutcome]);

  const refreshRegistry = useCallback(() => {
    let registry;
    try {
      registry = initRegistry(engine, requireInit(engine));
    } catch {
      model.registry = { state: 'no-init' };
      return redraw();
    }
    model.registry = { state: 'loading' };
    redraw();
    registry.repositories().then(
      (repositories) => (model.registry = { state: 'loaded', repositories }),
      (error: unknown) => (model.registry = { state: 'error', message: (error as Error).message }),
    ).finally(redraw);
  }, [engine, model, redraw]);

  // Engine events: queued, then applied together every EVENT_BATCH_MS (no timer while idle).
  useEffect(() => {
    let queue: EngineEvent[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      const events = queue;
      queue = [];
      let hostsChanged = false;
      for (const event of events) {
        applyEvent(model, event);
        const line = logLineOf(event);
        if (line) {
          if (line.key === 'pcc') engine.logs.append('pcc', line.text);
          if (isShowing(line.key)) append(cleanLine(line.text));
        }
        if (event.type === 'host.state' || (event.type === 'task' && event.phase !== 'started')) hostsChanged = true;
      }
      if (hostsChanged) syncFromState();
      redraw();
    };
    const unsubscribe = engine.events.subscribe((event) => {
      queue.push(event);
      timer ??= setTimeout(flush, EVENT_BATCH_MS);
    });
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [engine, model, isShowing, append, syncFromState, redraw]);

  // At start, after the first frame: what state.json knows at once, then what the providers hold.
  useEffect(() => {
    syncFromState();
    run('read hosts from the providers', async () => {
      const hosts = await relaunchInterrupted(engine, await reconcile(engine));
      refreshRegistry();
      return `${hosts.filter((host) => host.state !== 'gone').length} host(s)`;
    });
  }, [engine, run, syncFromState, refreshRegistry]);

  // Peers: read at start, after work that changes the overlay's members, and as handshakes age.
  useEffect(() => {
    const refresh = () => {
      overlayPeers(engine).catch((error: unknown) => engine.events.emit({ type: 'log', level: 'warn', message: `reading overlay peers: ${(error as Error).message}` }));
    };
    refresh();
    const timer = setInterval(refresh, PEERS_REFRESH_MS);
    const unsubscribe = engine.events.subscribe((event) => {
      if (event.type === 'task' && event.phase !== 'started' && MEMBERSHIP_TASKS.has(event.task)) refresh();
    });
    return () => {
      clearInterval(timer);
      unsubscribe();
    };
  }, [engine]);

  return { model, refreshRegistry };
}
