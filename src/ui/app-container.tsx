import { useApp, useInput } from 'ink';
import { useCallback, useEffect, useRef, useState } from 'react';
import { lastBuild } from '../engine/builds.js';
import { buildOnInit, INIT_SERVICE_STEPS, initController, initRegistry, requireInit } from '../engine/controller/init.js';
import type { Engine } from '../engine/engine.js';
import type { UserPreferences } from '../engine/preferences.js';
import { describeError, PccError } from '../core/errors.js';
import type { EngineEvent } from '../engine/events.js';
import { destroy, resume, save, up } from '../engine/lifecycle.js';
import { reconcile } from '../engine/reconcile.js';
import { overlayPeers } from '../engine/overlay/overlay.js';
import { failureLines, setup, setupStepTotals } from '../engine/setup/setup.js';
import { App } from './app.js';
import { UiActionsContext, UiStateContext, type Dialog, type PanelName, type UiActions, type UiState, PANELS } from './contexts.js';
import type { UpChoice } from './dialogs/up-menu.js';
import { commandFor, type Command } from './keymap.js';
import { layout, useTerminalSize } from './layout.js';
import { cleanLine, FOLLOW, LogRing, scrollBy, scrollToTop, visibleLines, type LogView } from './log-buffer.js';
import { loadTail, logKey, logLineOf, sourceTitle, type LogSource } from './log-sources.js';
import { applyEvent, buildRunning, createModel, sortedHosts, syncHosts, type HostRow } from './model.js';
import { contentLines } from './panels/panel.js';
import { hostListRows } from './panels/hosts.js';
import type { Outcome } from './status-line.js';

/** Engine events are applied in batches, at most one re-render per batch. */
export const EVENT_BATCH_MS = 50;
/** Lines the log pane keeps in memory (older ones stay in the log files). */
export const LOG_CAPACITY = 10_000;
const TICK_MS = 120;

/** The hosts an action applies to: one host, or every host of a provider. */
interface HostSelection {
  pattern: string;
  hosts: HostRow[];
  /** Set when these are every host of that provider. */
  wholeProvider: string | undefined;
}

/**
 * Owns the UI's state: subscribes to the engine's events (batched), runs the engine's functions for
 * each key, and hands state and actions to the layout through contexts. Work never runs here: each
 * action is an engine call whose progress arrives as events, so the screen stays responsive.
 */
/** How often the peers panel re-reads the overlay (handshake ages, bytes). */
const PEERS_REFRESH_MS = 30_000;
/** Engine tasks after which the overlay's members may have changed. */
const MEMBERSHIP_TASKS = new Set(['setup', 'init', 'destroy', 'resume']);

export function AppContainer(props: { engine: Engine; preferences: UserPreferences }) {
  const { engine, preferences } = props;
  const { exit } = useApp();
  const terminal = useTerminalSize();
  const sizes = layout(terminal.columns, terminal.rows);
  const [model] = useState(() => createModel(setupStepTotals(engine.config, INIT_SERVICE_STEPS.length), lastBuild(engine.config.stateDir)));
  const [ring] = useState(() => new LogRing(LOG_CAPACITY));
  const [, setVersion] = useState(0);
  const bump = useCallback(() => setVersion((version) => version + 1), []);
  const [focus, setFocus] = useState<PanelName>('hosts');
  const [selection, setSelection] = useState<Record<PanelName, number>>({ hosts: 0, registry: 0, builds: 0, peers: 0, logs: 0 });
  const [source, setSource] = useState<LogSource>({ kind: 'activity' });
  const sourceKey = useRef(logKey(source));
  const [view, setView] = useState<LogView>(FOLLOW);
  const [filter, setFilter] = useState('');
  const [filterEditing, setFilterEditing] = useState(false);
  const [dialog, setDialogState] = useState<Dialog | undefined>();
  // Whether a dialog or the filter has the keys. Taken at once, so the next key already goes to it;
  // given back only after the key being handled reached every listener, so the key that closes a
  // dialog (q closes the help) never also runs a command.
  const modal = useRef(false);
  const modalWanted = useRef(false);
  const holdKeys = (held: boolean) => {
    modalWanted.current = held;
    if (held) modal.current = true;
    else setImmediate(() => (modal.current = modalWanted.current));
  };
  const setDialog = (next: Dialog | undefined) => {
    holdKeys(next !== undefined);
    setDialogState(next);
  };
  const jobs = useRef(new Map<number, string>());
  const nextJob = useRef(0);
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  const [tick, setTick] = useState(0);
  const [lastUp, setLastUp] = useState<UpChoice | undefined>();

  const syncFromState = useCallback(() => {
    try {
      syncHosts(model, Object.values(engine.state.read().hosts));
    } catch (error) {
      setOutcome({ ok: false, text: describeError(error).replace(/\n\s*/g, ' — ') });
    }
  }, [engine, model]);

  const refreshRegistry = useCallback(() => {
    let registry;
    try {
      registry = initRegistry(engine, requireInit(engine));
    } catch {
      model.registry = { state: 'no-init' };
      return bump();
    }
    model.registry = { state: 'loading' };
    bump();
    registry.repositories().then(
      (repositories) => (model.registry = { state: 'loaded', repositories }),
      (error: unknown) => (model.registry = { state: 'error', message: (error as Error).message }),
    ).finally(bump);
  }, [engine, model, bump]);

  /** Runs engine work in the background; its outcome goes to the status line, errors also to the logs. */
  const run = useCallback(
    (title: string, work: () => Promise<string | undefined>, host?: string) => {
      const id = nextJob.current++;
      jobs.current.set(id, title);
      bump();
      work()
        .then(
          (result) => setOutcome({ ok: true, text: `${title}: ${result ?? 'done'}` }),
          (error: unknown) => {
            const text = `${title}: ${describeError(error).replace(/\n\s*/g, ' — ')}`;
            setOutcome({ ok: false, text });
            engine.events.emit({ type: 'log', level: 'error', message: text });
            if (host) {
              engine.logs.append(host, `error: ${text}`);
              if (sourceKey.current === host) ring.push(`error: ${text}`);
            }
          },
        )
        .finally(() => {
          jobs.current.delete(id);
          bump();
        });
    },
    [engine, ring, bump],
  );

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
          if (line.key === sourceKey.current) ring.push(cleanLine(line.text));
        }
        if (event.type === 'host.state' || (event.type === 'task' && event.phase !== 'started')) hostsChanged = true;
      }
      if (hostsChanged) syncFromState();
      bump();
    };
    const unsubscribe = engine.events.subscribe((event) => {
      queue.push(event);
      timer ??= setTimeout(flush, EVENT_BATCH_MS);
    });
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [engine, model, ring, syncFromState, bump]);

  // The user's preferences load after the first frame: conf is slow to load.
  useEffect(() => {
    preferences.lastUp().then(
      (last) => setLastUp((current) => current ?? last),
      (error: unknown) => engine.events.emit({ type: 'log', level: 'warn', message: `reading your preferences: ${(error as Error).message}` }),
    );
  }, [engine, preferences]);

  // At start: what state.json knows at once, then what the providers hold.
  useEffect(() => {
    syncFromState();
    loadTail(engine.logs, { kind: 'activity' }, ring);
    run('read hosts from the providers', async () => {
      const hosts = await reconcile(engine);
      refreshRegistry();
      return `${hosts.filter((host) => host.state !== 'gone').length} host(s)`;
    });
  }, [engine, ring, run, syncFromState, refreshRegistry]);

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

  const busy = jobs.current.size > 0 || model.builds.some(buildRunning);
  // The spinner and running build times tick only while something is in flight: idle costs nothing.
  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(() => setTick((value) => value + 1), TICK_MS);
    return () => clearInterval(timer);
  }, [busy]);

  const hostRows = hostListRows(sortedHosts(model));
  const logLines = ring.lines(filter);
  const logRows = Math.max(1, contentLines(sizes.logs.height) - (filterEditing || filter ? 1 : 0));
  const clampIndex = (index: number, length: number) => Math.max(0, Math.min(index, length - 1));
  const listLength: Record<PanelName, number> = {
    hosts: hostRows.length,
    registry: model.registry.state === 'loaded' ? model.registry.repositories.length : 0,
    builds: model.builds.length,
    peers: model.peers.length,
    logs: 0,
  };
  const selected = (panel: PanelName) => clampIndex(selection[panel], listLength[panel]);

  const selectedHosts = (): HostSelection | undefined => {
    const row = hostRows[selected('hosts')];
    if (!row) return undefined;
    if (row.kind === 'provider') return { pattern: row.provider, hosts: row.hosts, wholeProvider: row.provider };
    const siblings = hostRows.filter((other) => other.kind === 'host' && other.host.provider === row.host.provider);
    return { pattern: row.host.name, hosts: [row.host], wholeProvider: siblings.length === 1 ? row.host.provider : undefined };
  };

  const withHosts = (then: (chosen: HostSelection) => void) => {
    const chosen = selectedHosts();
    if (!chosen) return setOutcome({ ok: false, text: 'no host selected — press u to bring one up' });
    then(chosen);
  };

  const showLogs = (next: LogSource) => {
    sourceKey.current = logKey(next);
    loadTail(engine.logs, next, ring);
    setSource(next);
    setView(FOLLOW);
    setFocus('logs');
  };

  const actions: UiActions = {
    closeDialog: () => setDialog(undefined),
    bringUp: (choice: UpChoice) => {
      setDialog(undefined);
      setLastUp(choice);
      void preferences.rememberUp(choice);
      run(`bring up ${choice.count} ${choice.provider} ${choice.computeType} machine(s)${choice.setup ? ' and set them up' : ''}`, async () => {
        const hosts = await up(engine, choice.provider, { count: choice.count, computeType: choice.computeType, setup: choice.setup ?? false });
        return `${hosts.map((host) => host.name).join(', ')} running${choice.setup ? ' and set up' : ' — press S to set up'}`;
      });
    },
    setFilter: (text: string) => setFilter(text),
    endFilter: (keep: boolean) => {
      holdKeys(false);
      setFilterEditing(false);
      if (!keep) setFilter('');
      setView(FOLLOW);
    },
  };

  const commands: Record<Command, () => void> = {
    'focus.next': () => setFocus(PANELS[(PANELS.indexOf(focus) + 1) % PANELS.length] as PanelName),
    'focus.previous': () => setFocus(PANELS[(PANELS.indexOf(focus) + PANELS.length - 1) % PANELS.length] as PanelName),
    'focus.hosts': () => setFocus('hosts'),
    'focus.registry': () => setFocus('registry'),
    'focus.builds': () => setFocus('builds'),
    'focus.peers': () => setFocus('peers'),
    'focus.logs': () => setFocus('logs'),
    'select.up': () => moveSelection(-1),
    'select.down': () => moveSelection(1),
    'hosts.up': () => {
      if (engine.providers.size === 0) return setOutcome({ ok: false, text: 'no provider is available — check config/project.env (DEFAULT_PROVIDER)' });
      setDialog({ kind: 'up' });
    },
    init: () =>
      run('bring up init', async () => {
        const report = await initController(engine);
        refreshRegistry();
        if (!report.ok) throw new PccError('some steps failed', { hint: 'The Hosts and Builds panels show which; press l on init for its log.' });
        return 'registry, share and images ready';
      }, 'init'),
    'hosts.setup': () =>
      withHosts(({ pattern, hosts }) =>
        run(`set up ${pattern}`, async () => {
          const summary = await setup(engine, pattern);
          if (!summary.ok) throw new PccError(failureLines(summary).join('; '));
          return 'done';
        }, hosts.length === 1 ? hosts[0]?.name : undefined),
      ),
    build: () =>
      run('build images', async () => {
        const report = await buildOnInit(engine);
        refreshRegistry();
        const failed = report.results.filter((result) => result.outcome === 'failed').map((result) => result.image);
        if (failed.length > 0) throw new PccError(`failed: ${failed.join(', ')}`, { hint: 'Select the image in Builds and press l for its log.' });
        const built = report.results.filter((result) => result.outcome === 'done').length;
        return `${built} built, ${report.results.length - built} skipped`;
      }),
    'hosts.save': () => withHosts(confirmSave),
    'hosts.resume': () =>
      withHosts(({ pattern, hosts }) =>
        run(`resume ${pattern}`, async () => `${(await resume(engine, pattern)).map((host) => `${host.name} ${host.state}`).join(', ')}`, hosts.length === 1 ? hosts[0]?.name : undefined),
      ),
    'hosts.destroy': () => withHosts(confirmDestroy),
    'logs.show': () => {
      const host = hostRows[selected('hosts')];
      const build = model.builds[selected('builds')];
      if (focus === 'hosts' && host?.kind === 'host') showLogs({ kind: 'host', host: host.host.name });
      else if (focus === 'builds' && build) showLogs({ kind: 'build', image: build.image });
      else showLogs({ kind: 'activity' });
    },
    'logs.filter': () => {
      holdKeys(true);
      setFilterEditing(true);
    },
    'logs.pageUp': () => setView(scrollBy(logLines, view, logRows, -logRows)),
    'logs.pageDown': () => setView(scrollBy(logLines, view, logRows, logRows)),
    'logs.top': () => setView(scrollToTop(logLines)),
    'logs.follow': () => setView(FOLLOW),
    help: () => setDialog({ kind: 'help' }),
    quit: () => {
      const inFlight = [...jobs.current.values()];
      if (inFlight.length === 0) return exit();
      setDialog({
        kind: 'confirm',
        request: {
          title: 'Quit while work is in flight?',
          lines: [
            ...inFlight.map((title) => `${title} — stops where it is`),
            'machines left half made are adopted, or marked gone, the next time pcc starts',
          ],
          action: 'Quit',
          onConfirm: () => exit(),
        },
      });
    },
  };

  function moveSelection(delta: number) {
    if (focus === 'logs') return setView(scrollBy(logLines, view, logRows, delta));
    setSelection((current) => ({ ...current, [focus]: clampIndex(selected(focus) + delta, listLength[focus]) }));
  }

  function confirmSave({ pattern, hosts }: HostSelection) {
    const running = hosts.filter((host) => host.state === 'running');
    if (running.length === 0) return setOutcome({ ok: false, text: `nothing to save: ${hosts.map((host) => `${host.name} is ${host.state}`).join(', ')}` });
    const how = (host: HostRow) =>
      engine.providers.get(host.provider)?.capabilities().canSuspend ? 'suspended (memory and disk kept)' : 'powered off (disk kept, memory lost)';
    setDialog({
      kind: 'confirm',
      request: {
        title: `Save ${pattern}?`,
        lines: [
          ...hosts.map((host) => (host.state === 'running' ? `${host.name} (${host.provider}) is ${how(host)}` : `${host.name} is ${host.state}: left as it is`)),
          'their SSH connections close; r resumes them',
        ],
        action: 'Save',
        onConfirm: () => {
          setDialog(undefined);
          run(`save ${pattern}`, async () => `${(await save(engine, pattern)).map((host) => `${host.name} ${host.state}`).join(', ')}`, hosts.length === 1 ? hosts[0]?.name : undefined);
        },
      },
    });
  }

  function confirmDestroy({ pattern, hosts, wholeProvider }: HostSelection) {
    setDialog({
      kind: 'confirm',
      request: {
        title: `Destroy ${pattern}?`,
        lines: [
          ...hosts.map((host) => `${host.name} (${host.provider}, ${host.state}): the machine and its disk are deleted`),
          ...(wholeProvider ? [`that is every ${wholeProvider} host`] : []),
          'their SSH aliases and pinned host keys are removed; their logs stay in .pcc/logs/',
        ],
        action: 'Destroy',
        ...(wholeProvider ? { typed: wholeProvider } : {}),
        onConfirm: () => {
          setDialog(undefined);
          run(`destroy ${pattern}`, async () => {
            const report = await destroy(engine, pattern);
            return `destroyed ${report.destroyed.join(', ') || 'no host'}${report.left.length > 0 ? `; left: ${report.left.map((item) => `${item.kind} ${item.id}`).join(', ')}` : ''}`;
          });
        },
      },
    });
  }

  // Always subscribed (toggling would also toggle the terminal's raw mode); see `holdKeys`.
  useInput((input, key) => {
    if (modal.current) return;
    const command = commandFor(input, key);
    if (command) commands[command]();
  });

  const state: UiState = {
    project: engine.config.project.name,
    sizes,
    focus,
    model,
    hostRows,
    selection: { hosts: selected('hosts'), registry: selected('registry'), builds: selected('builds'), peers: selected('peers'), logs: 0 },
    providers: [...engine.providers.keys()],
    lastUp,
    logSource: sourceTitle(source),
    logLines: visibleLines(logLines, view, logRows),
    logView: view,
    filter,
    filterEditing,
    dialog,
    jobs: [...jobs.current.values()],
    outcome,
    tick,
    now: Date.now(),
  };
  return (
    <UiStateContext.Provider value={state}>
      <UiActionsContext.Provider value={actions}>
        <App />
      </UiActionsContext.Provider>
    </UiStateContext.Provider>
  );
}
