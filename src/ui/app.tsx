import { Box, Text, useInput } from 'ink';
import { PANELS, useUiActions, useUiState } from './contexts.js';
import { ConfirmDialog } from './dialogs/confirm.js';
import { HelpOverlay } from './dialogs/help.js';
import { AddMachineForm } from './dialogs/add-machine.js';
import { RunForm } from './dialogs/run-form.js';
import { UpMenu } from './dialogs/up-menu.js';
import { BuildsPanel } from './panels/builds.js';
import { HostsPanel } from './panels/hosts.js';
import { JobsPanel } from './panels/jobs.js';
import { LogsPanel } from './panels/logs.js';
import { PeersPanel } from './panels/peers.js';
import { RegistryPanel } from './panels/registry.js';
import { StatusLine } from './status-line.js';

const TITLES = { hosts: 'Hosts', registry: 'Registry', builds: 'Builds', peers: 'Peers', logs: 'Logs', jobs: 'Jobs' } as const;

/** Lays out the screen from UiState: header, the six panels (or a dialog), the status line. */
export function App() {
  const state = useUiState();
  const { sizes, model, selection, focus } = state;
  const bodyHeight = sizes.root.height - 2;
  return (
    <Box flexDirection="column" width={sizes.root.width} height={sizes.root.height} overflow="hidden">
      <Box height={1}>
        <Text wrap="truncate-end">
          <Text bold color="cyan">
            pcc
          </Text>
          <Text dimColor> {state.project} </Text>
          {PANELS.map((panel, index) => (
            <Text key={panel} inverse={panel === focus}>
              {' '}
              {index + 1} {TITLES[panel]}{' '}
            </Text>
          ))}
        </Text>
      </Box>
      <Box flexDirection="column" height={bodyHeight} overflow="hidden">
        {state.dialog ? (
          <DialogView />
        ) : (
          <>
            <HostsPanel rows={state.hostRows} peers={model.peers} now={state.now} selected={selection.hosts} focused={focus === 'hosts'} {...sizes.hosts} />
            <Box flexDirection="row" height={sizes.registry.height}>
              <RegistryPanel registry={model.registry} selected={selection.registry} focused={focus === 'registry'} {...sizes.registry} />
              <BuildsPanel builds={model.builds} recordedAt={model.buildsRecordedAt} now={state.now} selected={selection.builds} focused={focus === 'builds'} {...sizes.builds} />
              <PeersPanel peers={model.peers} selected={selection.peers} focused={focus === 'peers'} {...sizes.peers} />
            </Box>
            <JobsPanel runs={state.runs} error={state.runsError} now={state.now} selected={selection.jobs} focused={focus === 'jobs'} {...sizes.jobs} />
            <LogsPanel
              source={state.logSource}
              lines={state.logLines}
              view={state.logView}
              filter={state.filter}
              filterEditing={state.filterEditing}
              focused={focus === 'logs'}
              {...sizes.logs}
            />
          </>
        )}
      </Box>
      <StatusLine jobs={state.jobs} outcome={state.outcome} warnings={state.warnings} tick={state.tick} width={sizes.root.width} />
      {state.filterEditing ? <FilterInput /> : null}
    </Box>
  );
}

function DialogView() {
  const { dialog, providers, canAdd, lastUp, sizes } = useUiState();
  const actions = useUiActions();
  const width = Math.min(sizes.root.width, 100);
  if (dialog?.kind === 'help') return <HelpOverlay onClose={actions.closeDialog} width={width} />;
  if (dialog?.kind === 'up') {
    return <UpMenu providers={providers} last={lastUp} onChoose={actions.bringUp} {...(canAdd ? { onAddExisting: actions.openAdd } : {})} onCancel={actions.closeDialog} width={width} />;
  }
  if (dialog?.kind === 'add') return <AddMachineForm onAdd={actions.addMachine} onCancel={actions.closeDialog} width={width} />;
  if (dialog?.kind === 'run') return <RunForm onRun={actions.startRun} onCancel={actions.closeDialog} width={width} />;
  if (dialog?.kind === 'confirm') return <ConfirmDialog {...dialog.request} onCancel={actions.closeDialog} width={width} />;
  return null;
}

/** Takes the keys while the filter is edited (mounted only then), so no command fires meanwhile. */
function FilterInput() {
  const { filter } = useUiState();
  const actions = useUiActions();
  useInput((input, key) => {
    if (key.escape) return actions.endFilter(false);
    if (key.return) return actions.endFilter(true);
    if (key.backspace || key.delete) return actions.setFilter(filter.slice(0, -1));
    if (input && !key.ctrl && !key.meta && !key.tab) actions.setFilter(filter + input);
  });
  return null;
}
