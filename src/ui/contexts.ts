import { createContext, useContext } from 'react';
import type { RunRecord } from '../engine/run-records.js';
import type { ProviderName } from '../providers/provider.js';
import type { AddChoice } from './dialogs/add-machine.js';
import type { ConfirmRequest } from './dialogs/confirm.js';
import type { RunChoice } from './dialogs/run-form.js';
import type { UpChoice } from './dialogs/up-menu.js';
import type { Layout } from './layout.js';
import type { LogLine, LogView } from './log-buffer.js';
import type { UiModel } from './model.js';
import type { HostListRow } from './panels/hosts.js';
import type { Outcome } from './status-line.js';

/** In the order of their focus keys (1 to 6), which Tab follows. */
export const PANELS = ['hosts', 'registry', 'builds', 'peers', 'logs', 'jobs'] as const;
export type PanelName = (typeof PANELS)[number];

export type Dialog = { kind: 'help' } | { kind: 'up' } | { kind: 'add' } | { kind: 'run' } | { kind: 'confirm'; request: ConfirmRequest };

/** Everything the layout shows; owned by AppContainer. */
export interface UiState {
  project: string;
  sizes: Layout;
  focus: PanelName;
  model: UiModel;
  hostRows: HostListRow[];
  /** The runs of `pcc run`, newest first. */
  runs: RunRecord[];
  /** Why the runs could not be read or checked the last time. */
  runsError: string | undefined;
  selection: Record<PanelName, number>;
  /** Providers that bring up machines; the user's own machines are added instead. */
  providers: ProviderName[];
  /** Whether the bring-up menu offers "add an existing machine" (the ssh provider). */
  canAdd: boolean;
  /** The last bring-up's choice (user preferences), where the bring-up menu starts. */
  lastUp: UpChoice | undefined;
  logSource: string;
  /** The log lines in view. */
  logLines: LogLine[];
  logView: LogView;
  filter: string;
  filterEditing: boolean;
  dialog: Dialog | undefined;
  /** Titles of the work in flight. */
  jobs: string[];
  outcome: Outcome | undefined;
  /** What bills while forgotten (`spend-warnings.ts`), in a few words each. */
  warnings: string[];
  tick: number;
  now: number;
}

/** What the layout's own inputs (dialogs, the filter) can do. */
export interface UiActions {
  closeDialog(): void;
  bringUp(choice: UpChoice): void;
  /** From the bring-up menu to the form that adds an existing machine. */
  openAdd(): void;
  addMachine(choice: AddChoice): void;
  startRun(choice: RunChoice): void;
  setFilter(text: string): void;
  /** Leaves the filter input, keeping the filter or clearing it. */
  endFilter(keep: boolean): void;
}

export const UiStateContext = createContext<UiState | undefined>(undefined);
export const UiActionsContext = createContext<UiActions | undefined>(undefined);

export function useUiState(): UiState {
  const state = useContext(UiStateContext);
  if (!state) throw new Error('useUiState outside AppContainer');
  return state;
}

export function useUiActions(): UiActions {
  const actions = useContext(UiActionsContext);
  if (!actions) throw new Error('useUiActions outside AppContainer');
  return actions;
}
