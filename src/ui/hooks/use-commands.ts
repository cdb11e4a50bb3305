import { useApp, useInput } from 'ink';
import { useState } from 'react';
import { PccError } from '../../core/errors.js';
import { buildOnInit, initController } from '../../engine/controller/init.js';
import type { Engine } from '../../engine/engine.js';
import { destroy, resume, save, up } from '../../engine/lifecycle.js';
import { addMachine } from '../../engine/own-machines.js';
import { startRun, stopRun } from '../../engine/runs.js';
import { failureLines, setup } from '../../engine/setup/setup.js';
import type { Dialog, UiActions } from '../contexts.js';
import type { AddChoice } from '../dialogs/add-machine.js';
import type { RunChoice } from '../dialogs/run-form.js';
import type { UpChoice } from '../dialogs/up-menu.js';
import { commandFor, type Command } from '../keymap.js';
import type { LogSource } from '../log-sources.js';
import type { HostRow, UiModel } from '../model.js';
import type { HostListRow } from '../panels/hosts.js';
import { runHosts } from '../panels/jobs.js';
import type { BackgroundJobs } from './use-background-jobs.js';
import type { KeyHold } from './use-key-hold.js';
import type { LogPane } from './use-log-pane.js';
import type { PanelSelection } from './use-panel-selection.js';
import type { Runs } from './use-runs.js';

/** The hosts an action applies to: one host, or every host of a provider. */
interface HostSelection {
  pattern: string;
  hosts: HostRow[];
  /** Set when these are every host of that provider. */
  wholeProvider: string | undefined;
}

interface CommandInputs {
  engine: Engine;
  model: UiModel;
  hostRows: HostListRow[];
  runs: Runs;
  selection: PanelSelection;
  logPane: LogPane;
  jobs: BackgroundJobs;
  keys: KeyHold;
  refreshRegistry(): void;
  rememberUp(choice: UpChoice): void;
}

/**
 * What each key does: the keymap's commands, the dialogs that ask before destroying, saving or
 * quitting with work in flight, and the actions the dialogs and the filter input take.
 */
export function useCommands(inputs: CommandInputs): { dialog: Dialog | undefined; actions: UiActions } {
  const { engine, model, hostRows, runs, selection, logPane, jobs, keys, refreshRegistry, rememberUp } = inputs;
  const { run, setOutcome } = jobs;
  const { exit } = useApp();
  const [dialog, setDialogState] = useState<Dialog | undefined>();

  const setDialog = (next: Dialog | undefined) => {
    keys.hold(next !== undefined);
    setDialogState(next);
  };

  const selectedHosts = (): HostSelection | undefined => {
    const row = hostRows[selection.selected.hosts];
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

  const showLogs = (source: LogSource) => {
    logPane.show(source);
    selection.focusOn('logs');
  };

  const confirmSave = ({ pattern, hosts }: HostSelection) => {
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
  };

  const confirmDestroy = ({ pattern, hosts, wholeProvider }: HostSelection) => {
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
  };

  const confirmStop = () => {
    const chosen = runs.list[selection.selected.jobs];
    if (!chosen) return setOutcome({ ok: false, text: 'no run selected — press R to start one' });
    if (chosen.state !== 'running') return setOutcome({ ok: false, text: `nothing to stop: ${chosen.id} ${chosen.state}` });
    const { id } = chosen;
    setDialog({
      kind: 'confirm',
      request: {
        title: `Stop ${id}?`,
        lines: [
          `its ${chosen.replicas} replica(s) of ${chosen.image} on ${runHosts(chosen)} stop: their containers are removed`,
          'its record and what it printed so far stay in .pcc/runs/ (l shows them)',
        ],
        action: 'Stop',
        onConfirm: () => {
          setDialog(undefined);
          // Its `run` finished event re-reads the list.
          run(`stop ${id}`, async () => `${(await stopRun(engine, id)).state}`);
        },
      },
    });
  };

  const actions: UiActions = {
    closeDialog: () => setDialog(undefined),
    bringUp: (choice: UpChoice) => {
      setDialog(undefined);
      rememberUp(choice);
      run(`bring up ${choice.count} ${choice.provider} ${choice.computeType} machine(s)${choice.setup ? ' and set them up' : ''}`, async () => {
        const hosts = await up(engine, choice.provider, { count: choice.count, computeType: choice.computeType, setup: choice.setup ?? false });
        return `${hosts.map((host) => host.name).join(', ')} running${choice.setup ? ' and set up' : ' — press S to set up'}`;
      });
    },
    openAdd: () => setDialog({ kind: 'add' }),
    addMachine: (choice: AddChoice) => {
      setDialog(undefined);
      run(`add ${choice.target} as ${choice.name}`, async () => {
        const host = await addMachine(engine, {
          target: choice.target,
          name: choice.name,
          computeType: choice.computeType,
          ...(choice.password ? { password: async () => choice.password } : {}),
        });
        return `${host.name} added — press S to set it up`;
      });
    },
    startRun: (choice: RunChoice) => {
      setDialog(undefined);
      run(`run ${choice.image} × ${choice.replicas}${choice.pattern ? ` on ${choice.pattern}` : ''}`, async () => {
        const started = await startRun(engine, { image: choice.image, command: [], pattern: choice.pattern, replicas: choice.replicas, gpus: 0, env: [] });
        selection.focusOn('jobs');
        selection.select('jobs', Math.max(0, runs.reload().findIndex((record) => record.id === started.id)));
        // Where Swarm placed the replicas shows at once rather than at the next poll.
        runs.check();
        return `${started.id} started on ${started.hosts.join(', ')} — l tails it, x stops it`;
      });
    },
    setFilter: logPane.setFilter,
    endFilter: logPane.endFilter,
  };

  const commands: Record<Command, () => void> = {
    'focus.next': () => selection.moveFocus(1),
    'focus.previous': () => selection.moveFocus(-1),
    'focus.hosts': () => selection.focusOn('hosts'),
    'focus.registry': () => selection.focusOn('registry'),
    'focus.builds': () => selection.focusOn('builds'),
    'focus.peers': () => selection.focusOn('peers'),
    'focus.logs': () => selection.focusOn('logs'),
    'focus.jobs': () => selection.focusOn('jobs'),
    'select.up': () => (selection.focus === 'logs' ? logPane.scroll(-1) : selection.move(-1)),
    'select.down': () => (selection.focus === 'logs' ? logPane.scroll(1) : selection.move(1)),
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
    'jobs.run': () => setDialog({ kind: 'run' }),
    'jobs.stop': confirmStop,
    // What l tails follows the focused panel: the selected host, build or run; pcc's activity elsewhere.
    'logs.show': () => {
      const host = hostRows[selection.selected.hosts];
      const build = model.builds[selection.selected.builds];
      const chosenRun = runs.list[selection.selected.jobs];
      if (selection.focus === 'hosts' && host?.kind === 'host') showLogs({ kind: 'host', host: host.host.name });
      else if (selection.focus === 'builds' && build) showLogs({ kind: 'build', image: build.image });
      else if (selection.focus === 'jobs' && chosenRun) showLogs({ kind: 'run', run: chosenRun.id });
      else showLogs({ kind: 'activity' });
    },
    'logs.filter': () => logPane.editFilter(),
    'logs.pageUp': () => logPane.pageUp(),
    'logs.pageDown': () => logPane.pageDown(),
    'logs.top': () => logPane.scrollToTop(),
    'logs.follow': () => logPane.follow(),
    help: () => setDialog({ kind: 'help' }),
    quit: () => {
      const inFlight = jobs.inFlight();
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

  // Always subscribed (toggling would also toggle the terminal's raw mode); no command runs while a dialog or the filter holds the keys.
  useInput((input, key) => {
    if (keys.isHeld()) return;
    const command = commandFor(input, key);
    if (command) commands[command]();
  });

  return { dialog, actions };
}
