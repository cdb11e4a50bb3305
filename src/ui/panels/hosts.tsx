import type { PeerStatus } from '../../engine/overlay/peer-status.js';
import { costLine } from '../../engine/cost.js';
import { age } from '../../engine/units.js';
import type { ProviderName } from '../../providers/provider.js';
import { setupSummary, type HostRow } from '../model.js';
import { EmptyState, Panel, contentLines, contentWidth } from './panel.js';
import { bar, Table, type Cell, type Column, type Line } from './table.js';

/** A row of the Hosts list: a provider (selecting it selects all its hosts) or one host. */
export type HostListRow = { kind: 'provider'; provider: ProviderName; hosts: HostRow[] } | { kind: 'host'; host: HostRow };

/** Hosts grouped under their provider. */
export function hostListRows(hosts: HostRow[]): HostListRow[] {
  const rows: HostListRow[] = [];
  for (const host of hosts) {
    const group = rows.find((row): row is Extract<HostListRow, { kind: 'provider' }> => row.kind === 'provider' && row.provider === host.provider);
    if (group) group.hosts.push(host);
    else rows.push({ kind: 'provider', provider: host.provider, hosts: [host] });
  }
  return rows.flatMap((row) => (row.kind === 'provider' ? [row, ...row.hosts.map((host): HostListRow => ({ kind: 'host', host }))] : [row]));
}

const COLUMNS: Column[] = [
  { title: 'NAME', width: 12 },
  { title: 'PROVIDER', width: 9 },
  { title: 'GROUPS', width: 16 },
  { title: 'STATE', width: 12 },
  { title: 'ADDRESS', width: 17 },
  { title: 'OVERLAY', width: 13 },
  { title: 'GPU', width: 5 },
  { title: 'SETUP', width: 10 },
];
/** Shown only where some host is billed: local machines cost nothing to show. */
const COST_COLUMN: Column = { title: 'COST', width: 25 };

const STATE_COLORS: Record<string, string> = { running: 'green', creating: 'yellow', saved: 'blue', stopped: 'blue', interrupted: 'magenta', unreachable: 'yellow', 'not-created': 'red', unknown: 'red' };

function setupCell(host: HostRow, now: number): Cell {
  if (!host.setup) return { text: host.state === 'running' ? 'not set up — press S' : '-', dim: true };
  const { finished, total, current, done } = setupSummary(host.setup);
  const progress = `${bar(finished, total, 8)} ${finished}/${total}`;
  const failure = host.setup.failures[0];
  if (failure) return { text: `${progress} ✗ ${failure.step}: ${failure.message}`, color: 'red' };
  if (done) return { text: `${progress} ✓ done${host.setup.recordedAt === undefined ? '' : ` · ${age((now - host.setup.recordedAt) / 1000)} ago`}`, color: 'green' };
  return { text: `${progress} ${current ?? ''}`, color: 'yellow' };
}

export function HostsPanel(props: { rows: HostListRow[]; peers: PeerStatus[]; now: number; selected: number; focused: boolean; width: number; height: number }) {
  const billed = props.rows.some((row) => row.kind === 'host' && row.host.cost);
  const columns = billed ? [...COLUMNS.slice(0, -1), COST_COLUMN, ...COLUMNS.slice(-1)] : COLUMNS;
  const lines: Line[] = props.rows.map((row, item) => {
    if (row.kind === 'provider') {
      const states = [...new Set(row.hosts.map((host) => host.state))].join(', ');
      return { item, cells: [{ text: `▾ ${row.provider} — ${row.hosts.length} host${row.hosts.length === 1 ? '' : 's'} (${states})`, dim: true }] };
    }
    const { host } = row;
    const overlay = props.peers.find((peer) => peer.host === host.name)?.overlayAddress;
    return {
      item,
      cells: [
        { text: `  ${host.name}` },
        { text: host.provider },
        { text: host.groups.join(',') },
        { text: host.stopReason ? `${host.state} (${host.stopReason})` : host.state, color: STATE_COLORS[host.state] },
        { text: host.address ?? '-', dim: !host.address },
        { text: overlay ?? '-', dim: !overlay },
        { text: host.computeType === 'gpu' ? 'yes' : 'no', dim: host.computeType !== 'gpu' },
        ...(billed ? [host.cost ? { text: costLine(host.cost, props.now) } : { text: '-', dim: true }] : []),
        setupCell(host, props.now),
      ],
    };
  });
  return (
    <Panel number={1} title="Hosts" focused={props.focused} width={props.width} height={props.height}>
      {lines.length === 0 ? (
        <EmptyState>no hosts — press u to bring one up (i brings up init, the controller)</EmptyState>
      ) : (
        <Table columns={columns} lines={lines} selected={props.selected} focused={props.focused} width={contentWidth(props.width)} height={contentLines(props.height)} />
      )}
    </Panel>
  );
}
