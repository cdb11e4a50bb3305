import { age } from '../../engine/units.js';
import { buildRunning, type BuildRow } from '../model.js';
import { EmptyState, Panel, contentLines, contentWidth } from './panel.js';
import { bar, Table, type Column, type Line } from './table.js';

const COLUMNS: Column[] = [
  { title: 'IMAGE', width: 16 },
  { title: 'STATE', width: 10 },
  { title: 'TIME', width: 8 },
  { title: 'PROGRESS', width: 10 },
];

const PHASE_COLORS: Record<string, string> = { done: 'green', failed: 'red', skipped: 'gray', building: 'yellow', pushing: 'yellow' };

/** Build progress: Dockerfile steps while building, full once pushing or finished. */
function progress(row: BuildRow): string {
  if (row.phase === 'queued') return bar(0, 1, 8);
  if (row.phase === 'building') return row.step ? `${bar(row.step.at, row.step.of, 8)} ${row.step.at}/${row.step.of}` : bar(0, 1, 8);
  if (row.phase === 'pushing') return `${bar(1, 1, 8)} push`;
  return row.phase === 'failed' ? '' : bar(1, 1, 8);
}

export function BuildsPanel(props: { builds: BuildRow[]; recordedAt: number | undefined; now: number; selected: number; focused: boolean; width: number; height: number }) {
  const lines: Line[] = props.builds.flatMap((row, item): Line[] => {
    const elapsed = row.durationMs ?? (buildRunning(row) && row.phase !== 'queued' ? props.now - row.startedAt : undefined);
    const main: Line = {
      item,
      cells: [
        { text: row.image },
        { text: row.phase === 'skipped' && row.message === 'unchanged' ? 'unchanged' : row.phase, color: PHASE_COLORS[row.phase] },
        { text: elapsed === undefined ? '-' : `${(elapsed / 1000).toFixed(1)} s` },
        { text: progress(row) },
      ],
    };
    if (row.phase === 'failed' || (row.phase === 'skipped' && row.message && row.message !== 'unchanged')) {
      return [main, { item, cells: [{ text: `  └ ${row.message ?? 'failed'}`, color: row.phase === 'failed' ? 'red' : 'gray' }] }];
    }
    return [main];
  });
  return (
    <Panel number={3} title={props.recordedAt === undefined ? 'Builds' : `Builds · last run ${age((props.now - props.recordedAt) / 1000)} ago`} focused={props.focused} width={props.width} height={props.height}>
      {lines.length === 0 ? (
        <EmptyState>no builds yet — press b to build the images in docker/ (on init)</EmptyState>
      ) : (
        <Table columns={COLUMNS} lines={lines} selected={props.selected} focused={props.focused} width={contentWidth(props.width)} height={contentLines(props.height)} />
      )}
    </Panel>
  );
}
