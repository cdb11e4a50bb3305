import { parseArgs } from 'node:util';
import { reconcile } from '../../engine/reconcile.js';
import { overlayPeers } from '../../engine/overlay/overlay.js';
import type { PeerStatus } from '../../engine/overlay/peer-status.js';
import { age, bytes } from '../../engine/units.js';
import type { Command } from '../command.js';
import { openEngine } from '../context.js';
import { print, printJson, printTable, type CliIo } from '../io.js';

function printPeers(io: CliIo, peers: PeerStatus[]): void {
  if (peers.length === 0) return print(io.stdout, 'no overlay peers — hosts join the overlay during setup: pcc init, then pcc up and pcc setup');
  const rows = [
    ['HOST', 'OVERLAY', 'CONTAINERS', 'ENDPOINT', 'HANDSHAKE', 'RX', 'TX', 'STATE'],
    ...peers.map((p) => [p.host, p.overlayAddress, p.containerSubnet, p.endpoint ?? '-', p.handshakeAgeS === undefined ? 'never' : `${age(p.handshakeAgeS)} ago`, bytes(p.rxBytes), bytes(p.txBytes), p.state]),
  ];
  printTable(io.stdout, rows);
}

export const peersCommand: Command = {
  name: 'peers',
  usage: 'pcc peers [--json]',
  summary: 'list the overlay peers: address, container subnet, endpoint, latest handshake, rx/tx, state',
  details: 'State: up (handshake within 3 minutes), stale (older), down (none, or the host cannot be reached). RX/TX: bytes the other hosts received from and sent to it.',
  async run(args, io) {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false }, project: { type: 'string' } } });
    const engine = openEngine(io, values.project);
    try {
      await reconcile(engine);
      const peers = await overlayPeers(engine);
      if (values.json) printJson(io, peers);
      else printPeers(io, peers);
      return 0;
    } finally {
      engine.ssh.closeAll();
    }
  },
};
