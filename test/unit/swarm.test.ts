import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { RunRecords, type ReplicaRecord } from '../../src/engine/run-records.js';
import { LogLines, parseLogLine } from '../../src/engine/run-output.js';
import { placementHosts, runExitCode, serviceSpec } from '../../src/engine/runs.js';
import { mergeDaemonJson, withoutPccDaemonKeys } from '../../src/engine/setup/daemon-json.js';
import type { Facts, StepContext } from '../../src/engine/setup/step.js';
import { swarm } from '../../src/engine/setup/swarm.js';
import { nodeLabels } from '../../src/engine/swarm.js';
import type { HostRecord, SwarmRecord } from '../../src/engine/state.js';
import { makeProject, tempDir } from '../helpers/project.js';

const CLUSTER = 'gvklkt2nvka702d2dzyzekv94';
const OTHER_CLUSTER = 'zzzzkt2nvka702d2dzyzekv94';
const RECORD: SwarmRecord = { clusterId: CLUSTER, managerAddress: '10.128.0.1', workerToken: 'SWMTKN-1-abc-def' };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

function hostOf(name: string, fields: Partial<HostRecord> = {}): HostRecord {
  return {
    name, provider: 'vagrant', role: name === 'init' ? 'init' : 'compute', computeType: 'cpu', state: 'running', extras: {}, createdAt: '', updatedAt: '',
    overlay: { index: name === 'init' ? 1 : 2 }, ...fields,
  };
}

/** `known`: what init reported of the swarm; null: init is there but has not reported one yet. */
function context(host: HostRecord, known: SwarmRecord | 'no-init' | null = RECORD): StepContext {
  const config = loadConfig(makeProject({ 'project.env': 'VARLIBDOCKER_GB=3\n' }), {});
  return { host, config, settings: config.hosts[host.role], members: () => [], swarm: () => known ?? undefined };
}

const FRESH: Facts = { os: 'debian', docker: 'ok', swarm_state: 'inactive', node_id: '', node_addr: '', control: 'false', remote_managers: '', firewall: 'absent', mountpoint: 'missing', gpu_uuids: '', nvidia_runtime: 'missing', gpu_resource: 'missing', daemon_json: 'absent' };
const WORKER: Facts = { ...FRESH, swarm_state: 'active', node_id: 'd6jooopualj9rzdyglrcz7v54', node_addr: '10.128.0.2', remote_managers: '10.128.0.1:2377', firewall: 'ok', mountpoint: 'ok' };
const joinedWorker = hostOf('vagrant1', { swarmNode: { id: 'd6jooopualj9rzdyglrcz7v54', clusterId: CLUSTER } });

describe('swarm step plan', () => {
  it('starts the swarm on init on its overlay address, with the firewall and the jobs network inside the overlay MTU', () => {
    const plan = swarm.plan(FRESH, context(hostOf('init'), null));
    expect(plan).toEqual({
      kind: 'change',
      changes: [
        "admit Swarm's ports (2377, 7946, 4789) from the overlay interface pcc0 only (pcc-swarm-firewall.service)",
        "start pcc's swarm with this host as its manager on 10.128.0.1",
        "create the attachable overlay network pcc-jobs with MTU 1370 (inside the overlay's 1420)",
      ],
      apply: { DO_FIREWALL: '1', DO_JOIN: '1', DO_NETWORK: '1' },
    });
    expect(swarm.inputs(context(hostOf('init'), null))).toMatchObject({ SWARM_ROLE: 'manager', SWARM_ADDRESS: '10.128.0.1', SWARM_MTU: '1370', OVERLAY_IF: 'pcc0' });
  });

  it('joins a worker to the manager with the token, on its own overlay address', () => {
    const plan = swarm.plan(FRESH, context(hostOf('vagrant1')));
    expect(plan).toMatchObject({ kind: 'change', apply: { DO_FIREWALL: '1', DO_MOUNTPOINT: '1', DO_JOIN: '1', SWARM_TOKEN: RECORD.workerToken } });
    expect(plan.kind === 'change' && plan.changes).toContain("join pcc's swarm at 10.128.0.1:2377 as a worker on 10.128.0.2");
    expect(swarm.inputs(context(hostOf('vagrant1')))).toMatchObject({ SWARM_ROLE: 'worker', SWARM_ADDRESS: '10.128.0.2', SWARM_MANAGER: '10.128.0.1' });
  });

  it('changes nothing on a worker that is in place', () => {
    expect(swarm.plan(WORKER, context(joinedWorker))).toEqual({ kind: 'unchanged', note: 'worker on 10.128.0.2' });
  });

  it('leaves and joins again when the worker is in another swarm or at another address', () => {
    const rejoins = (facts: Facts, host = joinedWorker) => {
      const plan = swarm.plan(facts, context(host));
      return plan.kind === 'change' ? plan.apply : {};
    };
    expect(rejoins(WORKER, hostOf('vagrant1', { swarmNode: { id: 'd6jooopualj9rzdyglrcz7v54', clusterId: OTHER_CLUSTER } }))).toMatchObject({ DO_LEAVE: '1', DO_JOIN: '1' });
    expect(rejoins({ ...WORKER, node_addr: '172.17.0.3' })).toMatchObject({ DO_LEAVE: '1', DO_JOIN: '1' });
    expect(rejoins({ ...WORKER, remote_managers: '10.128.0.9:2377' })).toMatchObject({ DO_LEAVE: '1', DO_JOIN: '1' });
    expect(rejoins({ ...WORKER, swarm_state: 'error' })).toMatchObject({ DO_LEAVE: '1', DO_JOIN: '1' });
  });

  it('waits for a node that just booted to reconnect, rather than leaving a stale node behind', () => {
    expect(swarm.plan({ ...WORKER, swarm_state: 'pending', remote_managers: '' }, context(joinedWorker))).toEqual({
      kind: 'change',
      changes: ['wait for the node to reconnect to the manager at 10.128.0.1:2377 (it just started)'],
      apply: { DO_WAIT: '1' },
    });
    // Pending as another node (a join that never completed): join again.
    expect(swarm.plan({ ...WORKER, swarm_state: 'pending', node_id: 'othernode000000' }, context(joinedWorker))).toMatchObject({ apply: { DO_LEAVE: '1', DO_JOIN: '1' } });
  });

  it('without init there is nothing to join; with init not ready yet the worker is refused with what to run', () => {
    expect(swarm.plan(FRESH, context(hostOf('vagrant1'), 'no-init'))).toEqual({ kind: 'unchanged', note: 'no init: no swarm to join (pcc init starts one)' });
    expect(swarm.plan(FRESH, context(hostOf('vagrant1'), null))).toEqual({ kind: 'refuse', reason: expect.stringContaining('run pcc init') });
  });

  it('advertises GPUs as NVIDIA-GPU generic resources, with nvidia as the default runtime where the toolkit is', () => {
    const facts = { ...WORKER, gpu_uuids: 'GPU-aa GPU-bb', nvidia_runtime: 'ok', daemon_json: b64({ 'log-driver': 'local', 'node-generic-resources': ['FPGA=x'] }) };
    const plan = swarm.plan(facts, context(joinedWorker));
    expect(plan.kind).toBe('change');
    if (plan.kind !== 'change') return;
    expect(plan.apply.DO_GPU_RUNTIME).toBe('1');
    expect(JSON.parse(Buffer.from(plan.apply.DAEMON_JSON_B64 ?? '', 'base64').toString())).toEqual({
      'log-driver': 'local',
      'node-generic-resources': ['FPGA=x', 'NVIDIA-GPU=GPU-aa', 'NVIDIA-GPU=GPU-bb'],
      'default-runtime': 'nvidia',
    });
    // Without the toolkit: resources only (a task could not use the GPU through runc anyway).
    const bare = swarm.plan({ ...facts, nvidia_runtime: 'missing' }, context(joinedWorker));
    expect(bare.kind === 'change' && bare.apply.DO_GPU_RUNTIME).toBeFalsy();
  });

  it("takes pcc's GPU entries out when the GPUs are gone, and remove leaves the user's daemon.json keys", () => {
    const current = b64({ 'log-driver': 'local', 'node-generic-resources': ['FPGA=x', 'NVIDIA-GPU=GPU-aa'], 'default-runtime': 'nvidia' });
    expect(JSON.parse(mergeDaemonJson(current, { swarmGpus: [] }) ?? '')).toEqual({ 'log-driver': 'local', 'node-generic-resources': ['FPGA=x'], 'default-runtime': 'nvidia' });
    expect(JSON.parse(String(withoutPccDaemonKeys(current)))).toEqual({ 'log-driver': 'local', 'node-generic-resources': ['FPGA=x'] });
    expect(mergeDaemonJson(b64({ 'node-generic-resources': ['NVIDIA-GPU=GPU-aa'] }), { swarmGpus: ['GPU-aa'] })).toBeUndefined();
  });

  it('labels nodes with host, provider, compute type and instance type', () => {
    expect(nodeLabels(hostOf('i-0abc', { provider: 'ec2', computeType: 'gpu', extras: { instanceType: 'g5.xlarge', instanceId: 'i-0abc' } }))).toEqual({
      'pcc.host': 'i-0abc', 'pcc.provider': 'ec2', 'pcc.type': 'gpu', 'pcc.instance-type': 'g5.xlarge',
    });
    expect(nodeLabels(hostOf('init'))).toEqual({ 'pcc.host': 'init', 'pcc.provider': 'vagrant', 'pcc.type': 'init' });
  });
});

describe('run placement and service', () => {
  const fleet = [
    hostOf('init', { swarmNode: { id: 'nodeinit000', clusterId: CLUSTER } }),
    hostOf('vagrant1', { swarmNode: { id: 'nodevagrant1', clusterId: CLUSTER } }),
    hostOf('vagrant2', { state: 'stopped', swarmNode: { id: 'nodevagrant2', clusterId: CLUSTER } }),
    hostOf('i-0abc', { provider: 'ec2', computeType: 'gpu', swarmNode: { id: 'nodegpu0000', clusterId: CLUSTER } }),
    hostOf('vagrant3'),
  ];

  it('places on running compute hosts in the swarm that the pattern selects; init only by name', () => {
    expect(placementHosts(fleet, { pattern: undefined, gpus: 0 }, CLUSTER).map((host) => host.name)).toEqual(['vagrant1', 'i-0abc']);
    expect(placementHosts(fleet, { pattern: 'vagrant', gpus: 0 }, CLUSTER).map((host) => host.name)).toEqual(['vagrant1']);
    expect(placementHosts(fleet, { pattern: 'init', gpus: 0 }, CLUSTER).map((host) => host.name)).toEqual(['init']);
    expect(placementHosts(fleet, { pattern: undefined, gpus: 2 }, CLUSTER).map((host) => host.name)).toEqual(['i-0abc']);
  });

  it('says why no host can take the work', () => {
    expect(() => placementHosts(fleet, { pattern: 'vagrant2,vagrant3', gpus: 0 }, CLUSTER)).toThrow('no host of "vagrant2,vagrant3" can take work: vagrant2 is stopped, vagrant3 has not joined the swarm');
    expect(() => placementHosts(fleet, { pattern: 'vagrant1', gpus: 1 }, CLUSTER)).toThrow('--gpus 1: "vagrant1" has no GPU host (vagrant1 have none)');
    expect(() => placementHosts(fleet, { pattern: 'nosuch', gpus: 0 }, CLUSTER)).toThrow('pattern "nosuch" matches no host');
    expect(() => placementHosts([fleet[0] as HostRecord], { pattern: undefined, gpus: 0 }, CLUSTER)).toThrow('the fleet has no compute host to run on');
  });

  it('builds a once-only service: pinned image, /project, the jobs network, spread, other nodes excluded, GPUs reserved', () => {
    const spec = serviceSpec({
      id: 'job-7', reference: '10.128.0.1:5000/probe@sha256:ab', request: { command: ['python', 'run.py'], replicas: 3, gpus: 1 },
      env: [['SEED', '42']], registryHost: '10.128.0.1:5000', nodes: ['nodeinit000', 'nodevagrant1', 'nodegpu0000', 'nodegpu0001'], allowed: ['nodegpu0000', 'nodegpu0001'], hosts: 2,
    });
    expect(spec).toMatchObject({
      Name: 'job-7',
      Mode: { Replicated: { Replicas: 3 } },
      EndpointSpec: { Mode: 'dnsrr' },
      TaskTemplate: {
        ContainerSpec: {
          Image: '10.128.0.1:5000/probe@sha256:ab', Args: ['python', 'run.py'],
          Env: ['REGISTRY_HOST=10.128.0.1:5000', 'PCC_JOB=job-7', 'PCC_REPLICA={{.Task.Slot}}', 'SEED=42'],
          Mounts: [{ Type: 'bind', Source: '/project', Target: '/project' }],
        },
        RestartPolicy: { Condition: 'none' },
        Placement: { Constraints: ['node.id!=nodeinit000', 'node.id!=nodevagrant1'], MaxReplicas: 2 },
        Resources: { Reservations: { GenericResources: [{ DiscreteResourceSpec: { Kind: 'NVIDIA-GPU', Value: 1 } }] } },
        Networks: [{ Target: 'pcc-jobs' }],
      },
    });
    const plain = serviceSpec({ id: 'job-8', reference: 'r', request: { command: [], replicas: 1, gpus: 0 }, env: [], registryHost: 'h', nodes: ['a'], allowed: ['a'], hosts: 1 });
    expect(plain.TaskTemplate).not.toHaveProperty('Resources');
    expect((plain.TaskTemplate as { ContainerSpec: object }).ContainerSpec).not.toHaveProperty('Args');
  });
});

describe('run output and outcome', () => {
  it('reads Swarm log lines with timestamps and task details', () => {
    expect(parseLogLine('2026-12-02T10:50:00.123456789Z com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 hello world')).toEqual({
      timestamp: '2026-12-02T10:50:00.123456789Z', taskId: 't1', nodeId: 'n1', text: 'hello world',
    });
    expect(parseLogLine('plain text')).toEqual({ timestamp: undefined, taskId: undefined, nodeId: undefined, text: 'plain text' });
  });

  it("cuts Docker's multiplexed frames into lines, across chunk boundaries", () => {
    const frame = (stream: number, text: string) => {
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([header, Buffer.from(text)]);
    };
    const lines: string[] = [];
    const splitter = new LogLines((line) => lines.push(line));
    const stream = Buffer.concat([frame(1, 'one\ntw'), frame(2, 'o\nthree\n'), frame(1, 'four')]);
    splitter.push(stream.subarray(0, 5));
    splitter.push(stream.subarray(5, 17));
    splitter.push(stream.subarray(17));
    splitter.flush();
    expect(lines).toEqual(['one', 'two', 'three', 'four']);
  });

  it("gives the run the first failed replica's exit code, 125 for one that never ran, 0 when all succeeded", () => {
    const replica = (index: number, state: string, exitCode: number | null): ReplicaRecord => ({ replica: index, host: 'h', state, exitCode });
    expect(runExitCode([replica(1, 'complete', 0), replica(2, 'complete', 0)])).toBe(0);
    expect(runExitCode([replica(2, 'failed', 3), replica(1, 'complete', 0)])).toBe(3);
    expect(runExitCode([replica(1, 'rejected', null), replica(2, 'failed', 3)])).toBe(125);
    expect(runExitCode([replica(1, 'shutdown', 0)])).toBe(125);
  });
});

describe('run records', () => {
  const fields = {
    image: 'probe:latest', reference: 'r', digest: `sha256:${'a'.repeat(64)}`, command: [], envNames: [], pattern: 'cpu', hosts: ['vagrant1'],
    replicas: 1, gpus: 0, serviceId: 's', state: 'running' as const, startedAt: new Date().toISOString(), tasks: [],
  };

  it('gives runs started at once distinct ids and lists them newest first, skipping files that are not records', async () => {
    const dir = tempDir('pcc-runs-');
    const records = new RunRecords(dir);
    const made = await Promise.all(Array.from({ length: 5 }, () => records.create(fields)));
    expect(new Set(made.map((record) => record.id)).size).toBe(5);
    writeFileSync(`${dir}/job-99.json`, '{"not": "a record"}');
    expect(records.list().map((record) => record.id)).toEqual(['job-5', 'job-4', 'job-3', 'job-2', 'job-1']);
    expect((await records.create(fields)).id).toBe('job-100');
    await records.update('job-2', (record) => ({ ...record, state: 'failed', exitCode: 3 }));
    expect(records.read('job-2')).toMatchObject({ state: 'failed', exitCode: 3 });
    expect(() => records.read('job-x')).toThrow('not a run id: job-x');
    expect(() => records.read('job-42')).toThrow('no run job-42');
  });
});
