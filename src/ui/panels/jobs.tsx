import { Text } from 'ink';
import type { RunRecord } from '../../engine/run-records.js';
import { age } from '../../engine/units.js';
import { EmptyState, Panel, contentLines, contentWidth } from './panel.js';
import { Table, type Column, type Line } from './table.js';

const COLUMNS: Column[] = [
  { title: 'ID', width: 8 },
  { title: 'STATE', width: 11 },
  { title: 'IMAGE', width: 22 },
  { title: 'HOSTS', width: 24 },
  { title: 'AGE', width: 8 },
  { title: 'EXIT', width: 8 },
];

const STATE_COLORS: Record<RunRecord['state'], string> = { running: 'yellow', succeeded: 'green', failed: 'red', stopped: 'blue', lost: 'magenta' };

/** Where its replicas ran; before Swarm placed any, the hosts it may use. */
export function runHosts(run: RunRecord): string {
  const placed = [...new Set(run.tasks.map((task) => task.host).filter((host): host is string => host !== null))];
  return (placed.length > 0 ? placed : run.hosts).join(',');
}

/** Each replica's exit code in replica order ("0,3"); "-" while the run goes on or for a replica that never exited. */
function exitCodes(run: RunRecord): string {
  if (run.state === 'running' || run.tasks.length === 0) return '-';
  return run.tasks.map((task) => task.exitCode ?? '-').join(',');
}

/** The runs of `pcc run`, newest first; why a replica could not run (no suitable node, pull failed ...) under its run. */
export function JobsPanel(props: { runs: RunRecord[]; error: string | undefined; now: number; selected: number; focused: boolean; width: number; height: number }) {
  const lines: Line[] = props.runs.flatMap((run, item): Line[] => {
    const main: Line = {
      item,
      cells: [
        { text: run.id },
        { text: run.state, color: STATE_COLORS[run.state] },
        { text: run.image },
        { text: runHosts(run) },
        { text: age((props.now - Date.parse(run.startedAt)) / 1000) },
        { text: exitCodes(run), color: run.exitCode ? 'red' : undefined },
      ],
    };
    // A replica that exited has its code in EXIT; one that never ran has only Swarm's reason.
    const stuck = run.tasks.find((task) => task.error && task.exitCode === null);
    return stuck ? [main, { item, cells: [{ text: `  └ replica ${stuck.replica}: ${stuck.error}`, color: 'red' }] }] : [main];
  });
  // The error line takes one of the table's rows.
  const tableHeight = contentLines(props.height) - (props.error ? 1 : 0);
  return (
    <Panel number={6} title="Jobs" focused={props.focused} width={props.width} height={props.height}>
      {props.error ? (
        <Text color="red" wrap="truncate-end">
          cannot check the runs: {props.error}
        </Text>
      ) : null}
      {lines.length === 0 ? (
        <EmptyState>no runs yet — press R to run an image of the registry on the fleet</EmptyState>
      ) : (
        <Table columns={COLUMNS} lines={lines} selected={props.selected} focused={props.focused} width={contentWidth(props.width)} height={tableHeight} />
      )}
    </Panel>
  );
}
