import type { PeerStatus } from '../../engine/overlay/peer-status.js';
import { age, bytes } from '../../engine/units.js';
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
