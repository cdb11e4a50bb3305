import type { PeerStatus } from '../../engine/overlay/peer-status.js';
import { EmptyState, Panel, contentLines, contentWidth } from './panel.js';
import { Table, type Column, type Line } from './table.js';

const COLUMNS: Column[] = [
  { title: 'PEER', width: 12 },
  { title: 'OVERLAY', width: 13 },
  { title: 'HANDSHAKE', width: 10 },
  { title: 'RX/TX', width: 16 },
  { title: 'STATE', width: 6 },
];

const STATE_COLORS = { up: 'green', stale: 'yellow', down: 'red' } as const;

export function bytes(count: number | undefined): string {
  if (count === undefined) return '-';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = count;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function age(seconds: number | undefined): string {
  if (seconds === undefined) return 'never';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h`;
}

export function PeersPanel(props: { peers: PeerStatus[]; selected: number; focused: boolean; width: number; height: number }) {
  const lines: Line[] = props.peers.map((peer, item) => ({
    item,
    cells: [
      { text: peer.host },
      { text: peer.overlayAddress },
      { text: age(peer.handshakeAgeS) },
      { text: `${bytes(peer.rxBytes)}/${bytes(peer.txBytes)}` },
      { text: peer.state, color: STATE_COLORS[peer.state] },
    ],
  }));
  return (
    <Panel number={4} title="Peers" focused={props.focused} width={props.width} height={props.height}>
      {lines.length === 0 ? (
        <EmptyState>the overlay has no peers yet — press i to bring up init, then u to add machines</EmptyState>
      ) : (
        <Table columns={COLUMNS} lines={lines} selected={props.selected} focused={props.focused} width={contentWidth(props.width)} height={contentLines(props.height)} />
      )}
    </Panel>
  );
}
