import type { Engine } from '../engine/engine.js';
import type { UserPreferences } from '../engine/preferences.js';
import { spendWarningLines, spendWarnings } from '../engine/spend-warnings.js';
import { App } from './app.js';
import { UiActionsContext, UiStateContext, type UiState } from './contexts.js';
import { useBackgroundJobs } from './hooks/use-background-jobs.js';
import { useCommands } from './hooks/use-commands.js';
import { useEngineEvents } from './hooks/use-engine-events.js';
import { useKeyHold } from './hooks/use-key-hold.js';
import { useLastUp } from './hooks/use-last-up.js';
import { useLogPane } from './hooks/use-log-pane.js';
import { usePanelSelection } from './hooks/use-panel-selection.js';
import { useRuns } from './hooks/use-runs.js';
import { useSpinnerTick } from './hooks/use-spinner-tick.js';
import { layout, useTerminalSize } from './layout.js';
import { buildRunning, sortedHosts, spendSubjectOfRow } from './model.js';
import { hostListRows } from './panels/hosts.js';

export { EVENT_BATCH_MS } from './hooks/use-engine-events.js';

/**
 * Owns the UI's state: composes the hooks that keep it (the model fed by engine events, the log pane,
 * the background work, the selection, the commands behind the keys) and hands their state and actions
 * to the layout through contexts. Work never runs here: each action is an engine call whose progress
 * arrives as events, so the screen stays responsive.
 */
export function AppContainer(props: { engine: Engine; preferences: UserPreferences }) {
  const { engine, preferences } = props;
  const terminal = useTerminalSize();
  const sizes = layout(terminal.columns, terminal.rows);
  const [lastUp, rememberUp] = useLastUp(engine, preferences);
  const keys = useKeyHold();
  const logPane = useLogPane(engine, sizes.logs.height, keys);
  const jobs = useBackgroundJobs(engine, logPane);
  const { model, refreshRegistry } = useEngineEvents(engine, jobs, logPane);
  const tick = useSpinnerTick(jobs.inFlight().length > 0 || model.builds.some(buildRunning));
  const hostRows = hostListRows(sortedHosts(model));
  const runs = useRuns(engine);
  const selection = usePanelSelection(model, hostRows, runs.list);
  const { dialog, actions } = useCommands({ engine, model, hostRows, runs, selection, logPane, jobs, keys, refreshRegistry, rememberUp });

  const now = Date.now();
  const state: UiState = {
    project: engine.config.project.name,
    sizes,
    focus: selection.focus,
    model,
    hostRows,
    runs: runs.list,
    runsError: runs.error,
    selection: selection.selected,
    providers: [...engine.providers.values()].filter((source) => !source.capabilities().existing).map((source) => source.name),
    canAdd: engine.providers.has('ssh'),
    lastUp,
    logSource: logPane.title,
    logLines: logPane.lines,
    logView: logPane.view,
    filter: logPane.filter,
    filterEditing: logPane.filterEditing,
    dialog,
    jobs: jobs.inFlight(),
    outcome: jobs.outcome,
    warnings: spendWarningLines(spendWarnings(engine.config, [...model.hosts.values()].map(spendSubjectOfRow), now)),
    tick,
    now,
  };
  return (
    <UiStateContext.Provider value={state}>
      <UiActionsContext.Provider value={actions}>
        <App />
      </UiActionsContext.Provider>
    </UiStateContext.Provider>
  );
}
