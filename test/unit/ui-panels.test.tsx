import { render } from 'ink-testing-library';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { Prices } from '../../src/engine/cost.js';
import type { EngineEvent } from '../../src/engine/events.js';
import type { PeerStatus } from '../../src/engine/overlay/peer-status.js';
import type { RunRecord } from '../../src/engine/run-records.js';
import { FOLLOW } from '../../src/ui/log-buffer.js';
import { applyEvent, createModel, sortedHosts, syncHosts, type UiModel } from '../../src/ui/model.js';
import { BuildsPanel } from '../../src/ui/panels/builds.js';
import { hostListRows, HostsPanel } from '../../src/ui/panels/hosts.js';
import { JobsPanel } from '../../src/ui/panels/jobs.js';
import { LogsPanel } from '../../src/ui/panels/logs.js';
import { PeersPanel } from '../../src/ui/panels/peers.js';
import { RegistryPanel } from '../../src/ui/panels/registry.js';
import { makeProject } from '../helpers/project.js';

// Colours are part of what is checked (failures in red): chalk decides at import, so before the imports.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

const size = { width: 140, height: 12 };
/** A host's setup run in these tests has five steps. */
const STEP_TOTALS = { init: 7, compute: 5 };
const RED = '\x1b[31m';

function modelOf(events: EngineEvent[], now = 1000): UiModel {
  const model = createModel(STEP_TOTALS);
  for (const event of events) applyEvent(model, event, now);
  return model;
}

/** The frame's text without colours. */
const plain = (frame: string | undefined) => (frame ?? '').replace(/\x1b\[[0-9;]*m/g, '');

function hostsFrame(model: UiModel, selected = 0, focused = true): string {
  return plain(hostsRaw(model, selected, focused));
}

function hostsRaw(model: UiModel, selected = 0, focused = true): string {
  return render(<HostsPanel rows={hostListRows(sortedHosts(model))} peers={model.peers} now={Date.now()} selected={selected} focused={focused} {...size} />).lastFrame() ?? '';
}

const peer = (host: string, overlayAddress: string, state: PeerStatus['state'], handshakeAgeS: number | undefined): PeerStatus => ({
  host, overlayAddress, containerSubnet: '10.129.0.0/24', endpoint: undefined, handshakeAgeS, rxBytes: 1_500_000, txBytes: 2048, state,
});

describe('Hosts panel', () => {
  it('says what to do when there are no hosts', () => {
    expect(hostsFrame(createModel(STEP_TOTALS))).toContain('no hosts — press u to bring one up');
  });

  it('lists hosts under their provider with groups, state, address, overlay address and GPU', () => {
    const model = modelOf([
      { type: 'host.state', host: 'vagrant1', provider: 'vagrant', state: 'creating' },
      { type: 'host.state', host: 'vagrant1', provider: 'vagrant', state: 'running', address: '127.0.0.1:2201' },
      { type: 'host.state', host: 'vagrant2', provider: 'vagrant', state: 'saved' },
      { type: 'peers', peers: [peer('vagrant1', '10.128.0.2', 'up', 4)] },
    ]);
    syncHosts(model, [
      { name: 'vagrant1', provider: 'vagrant', role: 'compute', computeType: 'gpu', state: 'running', extras: {}, ssh: { host: '127.0.0.1', port: 2201, user: 'vagrant', identityFile: '/k' }, createdAt: '', updatedAt: '' },
      { name: 'vagrant2', provider: 'vagrant', role: 'compute', computeType: 'cpu', state: 'saved', extras: {}, createdAt: '', updatedAt: '' },
    ]);
    const frame = hostsFrame(model);
    expect(frame).toContain('▾ vagrant — 2 hosts (running, saved)');
    expect(frame).toMatch(/vagrant1\s+vagrant\s+vagrant,gpu\s+running\s+127\.0\.0\.1:2201\s+10\.128\.0\.2\s+yes\s+not set up — press S/);
    expect(frame).toMatch(/vagrant2\s+vagrant\s+vagrant,cpu\s+saved\s+-\s+-\s+no/);
  });

  it('shows what billed hosts cost, in a COST column that local-only fleets do not get', () => {
    const model = modelOf([]);
    const running = { instanceType: 'g5.xlarge', spot: false, runningSince: new Date(Date.now() - 2 * 3600_000).toISOString(), storage: [{ kind: 'volume' as const, gb: 100 }] };
    syncHosts(
      model,
      [
        { name: 'i-0abc', provider: 'ec2', role: 'compute', computeType: 'gpu', state: 'running', extras: {}, billing: running, createdAt: '', updatedAt: '' },
        { name: 'vagrant1', provider: 'vagrant', role: 'compute', computeType: 'cpu', state: 'running', extras: {}, createdAt: '', updatedAt: '' },
      ],
      (record) => (record.billing ? new Prices(loadConfig(makeProject(), {})).hostCost(record, 'us-east-1', Date.now()) : undefined),
    );
    const frame = hostsFrame(model);
    expect(frame).toMatch(/COST\s+SETUP/);
    expect(frame).toMatch(/i-0abc\s.*\$1\.01\/h · \$2\.01 so far/);
    expect(frame).toMatch(/vagrant1\s.*no\s+-\s+not set up/);

    const local = modelOf([]);
    syncHosts(local, [{ name: 'vagrant1', provider: 'vagrant', role: 'compute', computeType: 'cpu', state: 'running', extras: {}, createdAt: '', updatedAt: '' }]);
    expect(hostsFrame(local)).not.toContain('COST');
  });

  it('shows setup progress: the current step and a bar, then done, failures in red', () => {
    const host: EngineEvent = { type: 'host.state', host: 'vagrant1', provider: 'vagrant', state: 'running', address: '127.0.0.1:2201' };
    const running = modelOf([
      host,
      { type: 'setup', host: 'vagrant1', step: 'docker-storage', phase: 'started' },
      { type: 'setup', host: 'vagrant1', step: 'docker-storage', phase: 'changed' },
      { type: 'setup', host: 'vagrant1', step: 'docker-engine', phase: 'started' },
    ]);
    expect(hostsFrame(running)).toContain('██░░░░░░ 1/5 docker-engine');

    const steps = ['docker-storage', 'docker-engine', 'registry-access', 'cuda'];
    const finished = modelOf([host, ...steps.flatMap((step): EngineEvent[] => [
      { type: 'setup', host: 'vagrant1', step, phase: 'started' },
      { type: 'setup', host: 'vagrant1', step, phase: 'unchanged' },
    ])]);
    applyEvent(finished, { type: 'setup', host: 'vagrant1', step: 'project-share', phase: 'started' });
    applyEvent(finished, { type: 'setup', host: 'vagrant1', step: 'project-share', phase: 'unchanged' });
    expect(hostsFrame(finished)).toContain('████████ 5/5 ✓ done');

    applyEvent(finished, { type: 'setup', host: 'vagrant1', step: 'docker-storage', phase: 'started' });
    expect(hostsFrame(finished)).toContain('░░░░░░░░ 0/5 docker-storage');
    applyEvent(finished, { type: 'setup', host: 'vagrant1', step: 'docker-storage', phase: 'failed', message: 'no space left' });
    const failed = hostsRaw(finished);
    expect(plain(failed)).toContain('✗ docker-storage: no space left');
    expect(failed).toMatch(new RegExp(`${RED.replace('[', '\\[')}[^\\n]*docker-storage: no space left`));
  });

  it('selecting a provider row selects all its hosts; the selection is shown only while focused', () => {
    const model = modelOf([{ type: 'host.state', host: 'vagrant1', provider: 'vagrant', state: 'running' }]);
    expect(hostsRaw(model, 0, true)).toContain('\x1b[7m');
    expect(hostsRaw(model, 0, true)).toMatch(/\x1b\[7m[^\n]*▾ vagrant/);
    expect(hostsRaw(model, 0, false)).not.toContain('\x1b[7m');
  });
});

describe('Registry panel', () => {
  const frame = (registry: UiModel['registry']) => plain(render(<RegistryPanel registry={registry} selected={0} focused {...size} />).lastFrame());

  it('says what to do without init, while loading, on errors, and when empty', () => {
    expect(frame({ state: 'no-init' })).toContain('no registry — press i to bring up init');
    expect(frame({ state: 'loading' })).toContain('reading the registry…');
    expect(frame({ state: 'error', message: 'unreachable' })).toContain('cannot read the registry: unreachable — press i to repair init');
    expect(frame({ state: 'loaded', repositories: [] })).toContain('the registry is empty — add docker/NNN-name/Dockerfile and press b');
  });

  it('lists repositories with tags, size and last push', () => {
    const out = frame({
      state: 'loaded',
      repositories: [
        { name: 'mybusybox', tags: [
          { tag: 'latest', digest: 'sha256:a', size: 2_345_678, created: '2025-03-01T10:20:30Z' },
          { tag: 'src-abc', digest: 'sha256:a', size: 2_345_678, created: '2025-03-01T10:20:30Z' },
        ] },
      ],
    });
    expect(out).toMatch(/mybusybox\s+latest, src-abc\s+2\.3 MB\s+2025-03-01 10:20/);
  });
});

describe('Builds panel', () => {
  const frame = (model: UiModel, now = 5000) => plain(render(<BuildsPanel builds={model.builds} recordedAt={model.buildsRecordedAt} now={now} selected={0} focused {...size} />).lastFrame());

  it('says what to do before any build', () => {
    expect(frame(createModel(STEP_TOTALS))).toContain('no builds yet — press b to build');
  });

  it('lists the run in order with state, duration, progress and the error line', () => {
    const model = modelOf([
      { type: 'build', image: 'base', phase: 'queued' },
      { type: 'build', image: 'app', phase: 'queued' },
      { type: 'build', image: 'tools', phase: 'queued' },
      { type: 'build', image: 'base', phase: 'building' },
      { type: 'build.output', image: 'base', line: 'Step 2/4 : RUN apt-get update' },
    ]);
    const building = frame(model);
    expect(building).toMatch(/base\s+building\s+4\.0 s\s+████░░░░ 2\/4/);
    expect(building.indexOf('base')).toBeLessThan(building.indexOf('app'));
    expect(building.indexOf('app')).toBeLessThan(building.indexOf('tools'));
    applyEvent(model, { type: 'build', image: 'base', phase: 'failed', message: 'RUN apt-get update: exit 100', durationMs: 4200 });
    applyEvent(model, { type: 'build', image: 'app', phase: 'skipped', message: 'FROM base, which failed', durationMs: 1 });
    applyEvent(model, { type: 'build', image: 'tools', phase: 'skipped', message: 'unchanged', durationMs: 300 });
    const done = frame(model);
    expect(done).toMatch(/base\s+failed\s+4\.2 s/);
    expect(done).toContain('└ RUN apt-get update: exit 100');
    expect(done).toContain('└ FROM base, which failed');
    expect(done).toMatch(/tools\s+unchanged\s+0\.3 s/);
    // The next run replaces the list.
    applyEvent(model, { type: 'build', image: 'tools', phase: 'queued' });
    expect(model.builds.map((build) => build.image)).toEqual(['tools']);
  });
});

describe('Peers panel', () => {
  const frame = (peers: PeerStatus[]) => plain(render(<PeersPanel peers={peers} selected={0} focused {...size} />).lastFrame());

  it('says how to get peers when the overlay has none', () => {
    expect(frame([])).toContain('the overlay has no peers yet — press i to bring up init');
  });

  it('lists peers with handshake age, rx/tx and state', () => {
    const out = frame([peer('init', '10.128.0.1', 'up', 12), peer('vagrant1', '10.128.0.2', 'down', undefined), peer('vagrant2', '10.128.0.3', 'stale', 400)]);
    expect(out).toMatch(/init\s+10\.128\.0\.1\s+12 s\s+1\.5 MB\/2\.0 KB\s+up/);
    expect(out).toMatch(/vagrant1\s+10\.128\.0\.2\s+never\s+.*down/);
    expect(out).toMatch(/vagrant2\s+10\.128\.0\.3\s+6 min\s+.*stale/);
  });
});

describe('Logs panel', () => {
  const lines = [{ seq: 7, text: 'apt-get install docker.io' }, { seq: 8, text: '! E: broken' }];
  const raw = (props: Partial<Parameters<typeof LogsPanel>[0]>) =>
    render(<LogsPanel source="host vagrant1" lines={[]} view={FOLLOW} filter="" filterEditing={false} focused {...size} {...props} />).lastFrame() ?? '';
  const frame = (props: Partial<Parameters<typeof LogsPanel>[0]>) => plain(raw(props));

  it('says what to do when nothing is logged, and when the filter matches nothing', () => {
    expect(frame({})).toContain('nothing logged for host vagrant1 yet — select a host, build or run and press l');
    expect(frame({ filter: 'zzz' })).toContain('no line contains "zzz" — / then Esc clears the filter');
  });

  it('shows the lines, whether it follows, stderr lines in red, and the filter being typed', () => {
    const following = frame({ lines });
    expect(following).toContain('host vagrant1 · following');
    expect(following).toContain('apt-get install docker.io');
    expect(raw({ lines })).toMatch(/\x1b\[31m! E: broken/);
    const scrolled = frame({ lines, view: { follow: false, topSeq: 7 }, filter: 'apt', filterEditing: true });
    expect(scrolled).toContain('scrolled — End follows');
    expect(scrolled).toContain('/apt▏ (Enter keeps, Esc clears)');
  });
});

describe('Jobs panel', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');
  const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();
  const run = (fields: Partial<RunRecord> & Pick<RunRecord, 'id' | 'state'>): RunRecord => ({
    image: 'analysis:latest', reference: 'registry.pcc:5000/analysis@sha256:' + 'a'.repeat(64), digest: 'sha256:' + 'a'.repeat(64), command: [], envNames: [],
    pattern: 'compute hosts', hosts: ['vagrant1', 'vagrant2'], replicas: 2, gpus: 0, serviceId: 'svc1', startedAt: ago(30), tasks: [], ...fields,
  });
  const raw = (runs: RunRecord[], error?: string) => render(<JobsPanel runs={runs} error={error} now={now} selected={0} focused {...size} />).lastFrame() ?? '';
  const frame = (runs: RunRecord[], error?: string) => plain(raw(runs, error));

  it('says how to start a run when there is none', () => {
    expect(frame([])).toContain('no runs yet — press R to run an image of the registry on the fleet');
  });

  it('lists runs with state, the hosts their replicas ran on, age and each replica\'s exit code', () => {
    const runs = [
      run({ id: 'job-3', state: 'running', startedAt: ago(90), tasks: [{ replica: 1, host: 'vagrant2', state: 'running', exitCode: null }, { replica: 2, host: null, state: 'pending', exitCode: null }] }),
      run({
        id: 'job-2', state: 'failed', image: 'analysis:v2', startedAt: ago(2 * 3600), endedAt: ago(7000), exitCode: 3,
        tasks: [{ replica: 1, host: 'vagrant1', state: 'complete', exitCode: 0 }, { replica: 2, host: 'vagrant2', state: 'failed', exitCode: 3, error: 'task: non-zero exit (3)' }],
      }),
      run({ id: 'job-1', state: 'lost', hosts: ['gpu1'], startedAt: ago(3 * 86400) }),
    ];
    const out = frame(runs);
    expect(out).toMatch(/ID\s+STATE\s+IMAGE\s+HOSTS\s+AGE\s+EXIT/);
    // Running: where Swarm placed replicas so far, no exit codes yet.
    expect(out).toMatch(/job-3\s+running\s+analysis:latest\s+vagrant2\s+1 min\s+-/);
    expect(out).toMatch(/job-2\s+failed\s+analysis:v2\s+vagrant1,vagrant2\s+2 h\s+0,3/);
    // Never placed: the hosts it could use.
    expect(out).toMatch(/job-1\s+lost\s+analysis:latest\s+gpu1\s+72 h\s+-/);
    expect(out.indexOf('job-3')).toBeLessThan(out.indexOf('job-2'));
    // The exit code says it all: Swarm's reason for a replica that exited is not repeated.
    expect(out).not.toContain('non-zero exit');
    // A failed run and its non-zero exit codes in red.
    expect(raw(runs)).toMatch(new RegExp(`${RED.replace('[', '\\[')}failed`));
    expect(raw(runs)).toMatch(new RegExp(`${RED.replace('[', '\\[')}0,3`));
  });

  it('shows a stopped run\'s replicas that never exited as -, and why a replica could not run', () => {
    const out = frame([
      run({ id: 'job-5', state: 'stopped', tasks: [{ replica: 1, host: 'vagrant1', state: 'shutdown', exitCode: 137 }, { replica: 2, host: 'vagrant2', state: 'running', exitCode: null }] }),
      run({ id: 'job-4', state: 'running', replicas: 1, tasks: [{ replica: 1, host: null, state: 'pending', exitCode: null, error: 'no suitable node (insufficient resources on 2 nodes)' }] }),
    ]);
    expect(out).toMatch(/job-5\s+stopped\s+.*\s137,-/);
    expect(out).toMatch(/job-4\s+running\s+analysis:latest\s+vagrant1,vagrant2\s/);
    expect(out).toContain('└ replica 1: no suitable node (insufficient resources on 2 nodes)');
  });

  it('shows why the runs could not be checked above the runs it has', () => {
    const shown = raw([run({ id: 'job-1', state: 'running' })], 'cannot reach init: connect ECONNREFUSED');
    expect(plain(shown)).toContain('cannot check the runs: cannot reach init: connect ECONNREFUSED');
    expect(plain(shown)).toMatch(/job-1\s+running/);
    expect(shown).toMatch(new RegExp(`${RED.replace('[', '\\[')}cannot check the runs`));
  });
});
