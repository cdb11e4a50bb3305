import { useState } from 'react';
import type { RunRecord } from '../../engine/run-records.js';
import { PANELS, type PanelName } from '../contexts.js';
import type { UiModel } from '../model.js';
import type { HostListRow } from '../panels/hosts.js';

export interface PanelSelection {
  focus: PanelName;
  focusOn(panel: PanelName): void;
  /** Moves the focus to the next panel (`step` 1) or the previous one (-1), wrapping around. */
  moveFocus(step: 1 | -1): void;
  /** The selected row of each panel's list. */
  selected: Record<PanelName, number>;
  /** Moves the selection in the focused panel's list by `delta` rows. */
  move(delta: number): void;
  /** Selects a row of a panel's list (a run just started, say). */
  select(panel: PanelName, index: number): void;
}

/** Which panel has the focus, and the row selected in each panel's list. */
export function usePanelSelection(model: UiModel, hostRows: HostListRow[], runs: RunRecord[]): PanelSelection {
  const [focus, setFocus] = useState<PanelName>('hosts');
  const [rows, setRows] = useState<Record<PanelName, number>>({ hosts: 0, registry: 0, builds: 0, peers: 0, logs: 0, jobs: 0 });
  const listLength: Record<PanelName, number> = {
    hosts: hostRows.length,
    registry: model.registry.state === 'loaded' ? model.registry.repositories.length : 0,
    builds: model.builds.length,
    peers: model.peers.length,
    logs: 0,
    jobs: runs.length,
  };
  // Lists change under the selection: it stays within the list as it is now.
  const selected = (panel: PanelName) => clampIndex(rows[panel], listLength[panel]);
  return {
    focus,
    focusOn: setFocus,
    moveFocus: (step: 1 | -1) => setFocus(PANELS[(PANELS.indexOf(focus) + PANELS.length + step) % PANELS.length] as PanelName),
    selected: { hosts: selected('hosts'), registry: selected('registry'), builds: selected('builds'), peers: selected('peers'), logs: 0, jobs: selected('jobs') },
    move: (delta: number) => setRows((current) => ({ ...current, [focus]: clampIndex(selected(focus) + delta, listLength[focus]) })),
    // Not clamped here: the list may not hold the row until the next render (it is clamped when read).
    select: (panel: PanelName, index: number) => setRows((current) => ({ ...current, [panel]: index })),
  };
}

function clampIndex(index: number, length: number): number {
  return Math.max(0, Math.min(index, length - 1));
}
