import type { BuildRecord } from '../engine/builds.js';
import type { HostCost } from '../engine/cost.js';
import type { SpendSubject } from '../engine/spend-warnings.js';
import type { BuildPhase, EngineEvent, SetupPhase } from '../engine/events.js';
import { hostGroups } from '../engine/inventory.js';
import type { PeerStatus } from '../engine/overlay/peer-status.js';
import type { RepositoryInfo } from '../engine/registry.js';
import type { HostRecord } from '../engine/state.js';
import type { ProviderName } from '../providers/provider.js';

/**
 * What the panels show, built from engine events (and state.json for what events do not carry:
 * groups, role, compute type). Plain data, changed in place by `applyEvent`; the app container
 * re-renders after each batch of events.
 */
export interface UiModel {
  hosts: Map<string, HostRow>;
  /** The latest build run, in the order the engine queued the images. */
  builds: BuildRow[];
  /** When the build run shown finished, where it was read from `.pcc/builds.json` (ms). */
  buildsRecordedAt: number | undefined;
  peers: PeerStatus[];
  registry: RegistryView;
  /** How many setup steps a run has, per role (init: its host steps and its services). */
  stepTotals: Record<HostRecord['role'], number>;
}

export interface HostRow {
  name: string;
  provider: ProviderName;
  role: HostRecord['role'];
  computeType: HostRecord['computeType'];
  groups: string[];
  state: HostRecord['state'];
  /** Why it powered itself off (idle stop), while it is off. */
  stopReason: string | undefined;
  address: string | undefined;
  setup: SetupProgress | undefined;
  /** What it costs, where its provider bills it. */
  cost: HostCost | undefined;
}

export interface SetupProgress {
  /** Each step's latest phase, in the order the steps ran. */
  steps: Map<string, SetupPhase>;
  /** How many steps a full run of this host has. */
  total: number;
  failures: { step: string; message: string }[];
  /** When a live run began (ms); undefined for a run read from state.json. */
  startedAt: number | undefined;
  /** When the run was recorded (ms), for a run read from state.json. */
  recordedAt: number | undefined;
}

export interface BuildRow {
  image: string;
  phase: BuildPhase;
  message: string | undefined;
  startedAt: number;
  durationMs: number | undefined;
  /** The Dockerfile step the build is at, from its output ("Step 3/7"). */
  step: { at: number; of: number } | undefined;
}

export type RegistryView =
  | { state: 'no-init' }
  | { state: 'loading' }
  | { state: 'loaded'; repositories: RepositoryInfo[] }
  | { state: 'error'; message: string };

/** The model a freshly opened UI starts from: the last build run pcc recorded (hosts follow from state.json). */
export function createModel(stepTotals: UiModel['stepTotals'], lastBuild?: BuildRecord): UiModel {
  const recordedAt = lastBuild ? Date.parse(lastBuild.at) : undefined;
  const builds = (lastBuild?.results ?? []).map(
    (result): BuildRow => ({
      image: result.image,
      phase: result.outcome,
      message: result.reason,
      startedAt: (recordedAt ?? 0) - result.durationMs,
      durationMs: result.durationMs,
      step: undefined,
    }),
  );
  return { hosts: new Map(), builds, buildsRecordedAt: recordedAt, peers: [], registry: { state: 'no-init' }, stepTotals };
}

const FINISHED_SETUP = new Set<SetupPhase>(['changed', 'unchanged', 'failed', 'planned', 'skipped']);
const FINISHED_BUILD = new Set<BuildPhase>(['done', 'failed', 'skipped']);

export function applyEvent(model: UiModel, event: EngineEvent, now = Date.now()): void {
  switch (event.type) {
    case 'host.state': {
      if (event.state === 'gone') {
        model.hosts.delete(event.host);
        return;
      }
      const row = model.hosts.get(event.host) ?? newRow(event.host, event.provider);
      row.state = event.state;
      row.stopReason = event.stopReason;
      if (event.address) row.address = event.address;
      model.hosts.set(event.host, row);
      return;
    }
    case 'setup': {
      const row = model.hosts.get(event.host);
      if (!row) return;
      let progress = row.setup;
      // A step that starts again after it finished begins a new run.
      if (!progress || (event.phase === 'started' && FINISHED_SETUP.has(progress.steps.get(event.step) ?? 'started'))) {
        progress = row.setup = { steps: new Map(), total: model.stepTotals[row.role], failures: [], startedAt: now, recordedAt: undefined };
      }
      progress.steps.set(event.step, event.phase);
      if (event.phase === 'failed') progress.failures.push({ step: event.step, message: event.message ?? 'failed' });
      return;
    }
    case 'build': {
      // The engine queues every image of a run at once: a queued image after all others finished starts a new run.
      if (event.phase === 'queued' && model.builds.every((build) => FINISHED_BUILD.has(build.phase))) {
        model.builds = [];
        model.buildsRecordedAt = undefined;
      }
      let row = model.builds.find((build) => build.image === event.image);
      if (!row) {
        row = { image: event.image, phase: event.phase, message: undefined, startedAt: now, durationMs: undefined, step: undefined };
        model.builds.push(row);
      }
      if (event.phase === 'building') row.startedAt = now;
      row.phase = event.phase;
      row.message = event.message;
      row.durationMs = event.durationMs;
      return;
    }
    case 'build.output': {
      const match = /^Step (\d+)\/(\d+)/.exec(event.line);
      const row = model.builds.find((build) => build.image === event.image);
      if (match && row) row.step = { at: Number(match[1]), of: Number(match[2]) };
      return;
    }
    case 'peers':
      model.peers = [...event.peers].sort((a, b) => a.host.localeCompare(b.host));
      return;
    default:
      return;
  }
}

/** Fills in what events do not carry from state.json's records, and drops hosts state no longer has. */
export function syncHosts(model: UiModel, records: HostRecord[], costOf: (record: HostRecord) => HostCost | undefined = () => undefined): void {
  const present = new Set(records.filter((record) => record.state !== 'gone').map((record) => record.name));
  for (const name of [...model.hosts.keys()]) if (!present.has(name)) model.hosts.delete(name);
  for (const record of records) {
    if (record.state === 'gone') continue;
    const row = model.hosts.get(record.name) ?? newRow(record.name, record.provider);
    row.provider = record.provider;
    row.role = record.role;
    row.computeType = record.computeType;
    row.groups = hostGroups(record);
    row.state = record.state;
    row.stopReason = record.state === 'running' ? undefined : record.selfStop?.reason;
    row.address = record.ssh ? `${record.ssh.host}:${record.ssh.port}` : row.address;
    row.cost = costOf(record);
    if (record.lastSetup && recordedRunIsNewer(row.setup, record.lastSetup)) row.setup = progressOf(record.lastSetup, model.stepTotals[record.role]);
    model.hosts.set(record.name, row);
  }
}

type RecordedSetup = NonNullable<HostRecord['lastSetup']>;

/** Whether state.json's record says more than what the row shows: no run, an older record, or a live run that has ended since. */
function recordedRunIsNewer(shown: SetupProgress | undefined, recorded: RecordedSetup): boolean {
  if (!shown) return true;
  const at = Date.parse(recorded.at);
  if (shown.recordedAt !== undefined) return shown.recordedAt !== at;
  return setupSummary(shown).current === undefined && at >= (shown.startedAt ?? 0);
}

function progressOf(recorded: RecordedSetup, total: number): SetupProgress {
  return { steps: new Map(Object.entries(recorded.steps)), total, failures: [...recorded.failures], startedAt: undefined, recordedAt: Date.parse(recorded.at) };
}

function newRow(name: string, provider: ProviderName): HostRow {
  return { name, provider, role: name === 'init' ? 'init' : 'compute', computeType: 'cpu', groups: [provider], state: 'creating', stopReason: undefined, address: undefined, setup: undefined, cost: undefined };
}

/** Setup progress in numbers: steps finished, the one running, whether the run is over. */
export function setupSummary(progress: SetupProgress): { finished: number; total: number; current: string | undefined; done: boolean } {
  let finished = 0;
  let current: string | undefined;
  for (const [step, phase] of progress.steps) {
    if (FINISHED_SETUP.has(phase)) finished++;
    else current = step;
  }
  const total = Math.max(progress.total, progress.steps.size);
  return { finished, total, current, done: current === undefined && finished >= total };
}

export function buildRunning(row: BuildRow): boolean {
  return !FINISHED_BUILD.has(row.phase);
}

/** Hosts in display order: by provider, init first, then by name. */
export function sortedHosts(model: UiModel): HostRow[] {
  return [...model.hosts.values()].sort(
    (a, b) => a.provider.localeCompare(b.provider) || Number(b.role === 'init') - Number(a.role === 'init') || a.name.localeCompare(b.name, undefined, { numeric: true }),
  );
}

/** A row as the spend warnings see it. */
export function spendSubjectOfRow(row: HostRow): SpendSubject {
  return { name: row.name, role: row.role, state: row.state, savedAt: row.cost?.savedAt, storagePerMonth: row.cost?.storagePerMonth };
}
