import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFleetProject, pcc, removeProjectContainers } from '../helpers/pcc.js';

interface Replica { replica: number; host: string | null; state: string; exitCode: number | null; error?: string }
interface Run { id: string; image: string; reference: string; digest: string; command: string[]; hosts: string[]; state: string; exitCode?: number; startedAt: string; endedAt?: string; tasks: Replica[] }
interface SwarmNode { Description: { Hostname: string; Resources: { GenericResources?: { DiscreteResourceSpec?: { Kind: string }; NamedResourceSpec?: { Kind: string; Value: string } }[] } }; Spec: { Availability: string; Labels: Record<string, string> }; Status: { State: string; Addr: string } }

/** The overlay's default MTU (OVERLAY_MTU) less VXLAN's 50 bytes. */
const SWARM_MTU = 1420 - 50;

describe('pcc run: work placed on the fleet by Docker Swarm', () => {
  const project = makeFleetProject('swarm');
  const container = (host: string) => `pcc-${project.name}-${host}`;
  const onHost = async (host: string, command: string) => (await execa('docker', ['exec', container(host), 'bash', '-c', command])).stdout.trim();
  const nodes = async (): Promise<SwarmNode[]> => JSON.parse(await onHost('init', 'docker node inspect $(docker node ls -q)')) as SwarmNode[];
  const nodeOf = async (host: string) => (await nodes()).find((node) => node.Description.Hostname === host);
  const jobs = async (): Promise<Run[]> => {
    const listed = await pcc(project, ['jobs', '--json']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    return JSON.parse(listed.stdout) as Run[];
  };
  const services = () => onHost('init', "docker service ls --format '{{.Name}}'");
  /** `pcc run` as typed, returning its exit code, output and the run's record. */
  const run = async (args: string[]) => {
    const result = await pcc(project, ['run', ...args]);
    const id = /^(job-\d+)\./m.exec(result.stdout)?.[1] ?? /(job-\d+):/.exec(result.stderr)?.[1];
    const record = id ? (await jobs()).find((job) => job.id === id) : undefined;
    return { ...result, record };
  };
  const hostsOf = (record: Run | undefined) => record?.tasks.map((task) => task.host) ?? [];

  beforeAll(async () => {
    mkdirSync(path.join(project.root, 'docker', '010-probe'), { recursive: true });
    writeFileSync(path.join(project.root, 'docker', '010-probe', 'Dockerfile'), 'FROM busybox:stable\nCMD ["echo", "probe says hello"]\n');
    const init = await pcc(project, ['init']);
    expect(init.exitCode, init.stderr).toBe(0);
    // The fleet's kernel has no NFS client, so only the share fails (setup.test.ts covers that refusal).
    const up = await pcc(project, ['up', 'vagrant', '--count', '2', '--setup', '--json']);
    expect(up.stderr).toMatch(/project-share/);
    expect(up.stderr).not.toMatch(/swarm: .*failed|swarm failed/);
  }, 600_000);
  afterAll(async () => {
    await pcc(project, ['destroy', 'all', '--yes']);
    await removeProjectContainers(project);
  });

  it('init manages three Ready nodes, each labelled and advertising its overlay address', async () => {
    const listed = await nodes();
    expect(listed.map((node) => [node.Description.Hostname, node.Status.State, node.Spec.Availability, node.Status.Addr]).sort()).toEqual([
      ['init', 'ready', 'active', '10.128.0.1'],
      ['vagrant1', 'ready', 'active', '10.128.0.2'],
      ['vagrant2', 'ready', 'active', '10.128.0.3'],
    ]);
    expect((await nodeOf('vagrant2'))?.Spec.Labels).toEqual({ 'pcc.host': 'vagrant2', 'pcc.provider': 'vagrant', 'pcc.type': 'cpu' });
    expect((await nodeOf('init'))?.Spec.Labels).toMatchObject({ 'pcc.type': 'init' });
    expect(await onHost('init', "docker network inspect pcc-jobs --format '{{.Driver}} {{index .Options \"com.docker.network.driver.mtu\"}}'")).toBe(`overlay ${SWARM_MTU}`);
    // The manager's port answers on the overlay address alone.
    expect(await onHost('init', "ss -Hltn 'sport = :2377' | awk '{print $4}'")).toBe('10.128.0.1:2377');
  });

  it('a second setup changes nothing in the swarm, and the overlay keeps its real endpoints (not Swarm\'s bridge)', async () => {
    const again = await pcc(project, ['setup', 'all', '--json']);
    const summary = JSON.parse(again.stdout) as { hosts: { host: string; steps: { step: string; outcome: string }[] }[] };
    for (const host of summary.hosts) expect(host.steps.find((step) => step.step === 'swarm')?.outcome, host.host).toBe('unchanged');
    const peers = await pcc(project, ['peers', '--json']);
    const listed = JSON.parse(peers.stdout) as { host: string; endpoint: string }[];
    for (const peer of listed) {
      const machineAddress = (await execa('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container(peer.host)])).stdout.trim();
      expect(peer.endpoint, peer.host).toBe(`${machineAddress}:51820`);
    }
  });

  it('runs the image pinned to its digest, only on the host --on names, streaming output prefixed by replica', async () => {
    const result = await run(['probe', '--on', 'vagrant2', '--replicas', '2']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n').sort()).toEqual([expect.stringMatching(/^job-\d+\.1@vagrant2 \| probe says hello$/), expect.stringMatching(/^job-\d+\.2@vagrant2 \| probe says hello$/)]);
    expect(hostsOf(result.record)).toEqual(['vagrant2', 'vagrant2']);
    expect(result.record).toMatchObject({ image: 'probe:latest', state: 'succeeded', exitCode: 0, hosts: ['vagrant2'] });
    expect(result.record?.reference).toBe(`10.128.0.1:5000/probe@${result.record?.digest}`);
    // A finished run's service is gone; its record stays.
    expect(await services()).toBe('');
  });

  it('spreads two replicas on cpu over two hosts', async () => {
    const result = await run(['probe', '--on', 'cpu', '--replicas', '2', '--', 'sh', '-c', 'echo "replica $PCC_REPLICA of $PCC_JOB; registry $REGISTRY_HOST"']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(new Set(hostsOf(result.record))).toEqual(new Set(['vagrant1', 'vagrant2']));
    expect(result.stdout).toContain(`replica 1 of ${result.record?.id}; registry 10.128.0.1:5000`);
    expect(result.stdout).toContain(`replica 2 of ${result.record?.id}; registry 10.128.0.1:5000`);
  });

  it("exits with the job's exit code, and records it with the output", async () => {
    // (Docker timestamps stdout and stderr separately: lines printed within microseconds of each other may swap.)
    const result = await run(['probe', '--on', 'vagrant1', '--', 'sh', '-c', 'echo computing; sleep 0.3; echo oops >&2; exit 3']);
    expect(result.exitCode).toBe(3);
    expect(result.record).toMatchObject({ state: 'failed', exitCode: 3, command: ['sh', '-c', 'echo computing; sleep 0.3; echo oops >&2; exit 3'] });
    expect(result.record?.tasks).toEqual([{ replica: 1, host: 'vagrant1', state: 'failed', exitCode: 3, error: expect.stringContaining('exit (3)') }]);
    expect(Date.parse(result.record?.endedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(result.record?.startedAt ?? ''));
    const id = result.record?.id ?? '';
    const log = readFileSync(path.join(project.root, '.pcc', 'runs', `${id}.log`), 'utf8');
    expect(log).toBe(`${id}.1@vagrant1 | computing\n${id}.1@vagrant1 | oops\n`);
    const logs = await pcc(project, ['logs', id]);
    expect(`${logs.stdout}\n`).toBe(log);
  });

  it('replicas reach each other over the swarm network by the run id', async () => {
    // Each replica looks up every replica's address under tasks.<run id> and pings it, then stays up
    // while the other one does the same.
    const script = 'sleep 3; for ip in $(nslookup tasks.$PCC_JOB | awk \'/^Address/ && NR > 2 {print $NF}\'); do ping -c1 -W3 $ip >/dev/null && echo "reached $ip"; done; sleep 5';
    const result = await run(['probe', '--on', 'cpu', '--replicas', '2', '--', 'sh', '-c', script]);
    expect(result.exitCode, result.stderr).toBe(0);
    const reached = (replica: number) => [...result.stdout.matchAll(new RegExp(`^job-\\d+\\.${replica}@\\S+ \\| reached (\\S+)$`, 'gm'))].map((match) => match[1]).sort();
    expect(reached(1)).toHaveLength(2);
    expect(reached(2)).toEqual(reached(1));
    expect(new Set(hostsOf(result.record)).size).toBe(2);
  });

  it('a missing image, a pattern without hosts and --gpus without a GPU host fail before anything starts', async () => {
    const before = (await jobs()).length;
    const missing = await pcc(project, ['run', 'nosuchimage']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/nosuchimage:latest is not in init's registry \(it has: probe\)/);
    expect(missing.stderr).toMatch(/pcc build NAME/);
    const nobody = await pcc(project, ['run', 'probe', '--on', 'gpu*']);
    expect(nobody.exitCode).toBe(2);
    expect(nobody.stderr).toMatch(/pattern "gpu\*" matches no host/);
    const noGpu = await pcc(project, ['run', 'probe', '--gpus', '1']);
    expect(noGpu.exitCode).toBe(2);
    expect(noGpu.stderr).toMatch(/--gpus 1: the fleet has no GPU host \(vagrant1, vagrant2 have none\)/);
    const badEnv = await pcc(project, ['run', 'probe', '--env', 'NOVALUE']);
    expect(badEnv.exitCode).toBe(2);
    expect(badEnv.stderr).toMatch(/--env NOVALUE: expected KEY=VALUE/);
    expect((await jobs()).length).toBe(before);
    expect(await services()).toBe('');
  });

  it('pcc stop ends a running run, keeping its record and what it printed', async () => {
    const started = await pcc(project, ['run', 'probe', '--on', 'vagrant1', '--detach', '--', 'sh', '-c', 'echo started; sleep 300']);
    expect(started.exitCode, started.stderr).toBe(0);
    const id = started.stdout.trim();
    expect(id).toMatch(/^job-\d+$/);
    for (let i = 0; i < 60 && !(await onHost('vagrant1', 'docker ps --format "{{.Names}}"')).includes(`${id}.1`); i++) await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await jobs()).find((job) => job.id === id)?.state).toBe('running');
    const stopped = await pcc(project, ['stop', id]);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(stopped.stdout.trim()).toBe(`${id} stopped`);
    expect((await jobs()).find((job) => job.id === id)).toMatchObject({ state: 'stopped' });
    expect(readFileSync(path.join(project.root, '.pcc', 'runs', `${id}.log`), 'utf8')).toContain(`${id}.1@vagrant1 | started`);
    expect(await services()).toBe('');
    const again = await pcc(project, ['stop', id]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/is not running/);
  });

  it('Ctrl-C stops following, not the run: pcc logs follows it again to its end', async () => {
    const following = pcc(project, ['run', 'probe', '--on', 'vagrant1', '--', 'sh', '-c', 'echo first; sleep 6; echo last']);
    let output = '';
    following.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    for (let i = 0; i < 100 && !output.includes('| first'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    following.kill('SIGINT');
    const interrupted = await following;
    expect(interrupted.exitCode).toBe(130);
    const id = /^(job-\d+)\./m.exec(output)?.[1] ?? '';
    expect(interrupted.stderr).toContain(`${id} goes on: pcc logs ${id} follows it, pcc stop ${id} stops it`);
    expect((await jobs()).find((job) => job.id === id)?.state).toBe('running');
    const followed = await pcc(project, ['logs', id]);
    expect(followed.stdout.split('\n')).toEqual([`${id}.1@vagrant1 | first`, `${id}.1@vagrant1 | last`]);
    expect((await jobs()).find((job) => job.id === id)).toMatchObject({ state: 'succeeded', exitCode: 0 });
  });

  it('mounts /project in every replica (on the fleet the host\'s own folder: its kernel has no NFS client for the share)', async () => {
    const result = await run(['probe', '--on', 'vagrant2', '--', 'sh', '-c', 'echo "written by $PCC_JOB" > /project/run-output.txt']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/vagrant2: \/project is not mounted there \(the project-share step failed\)/);
    expect(await onHost('vagrant2', 'cat /project/run-output.txt')).toBe(`written by ${result.record?.id}`);
  });

  it('a run whose service was removed behind pcc\'s back is recorded as lost, not left running', async () => {
    const started = await pcc(project, ['run', 'probe', '--on', 'vagrant1', '--detach', '--', 'sleep', '300']);
    const id = started.stdout.trim();
    await onHost('init', `docker service rm ${id}`);
    const followed = await pcc(project, ['logs', id]);
    expect(followed.exitCode, followed.stderr).toBe(0);
    expect((await jobs()).find((job) => job.id === id)).toMatchObject({ state: 'lost', endedAt: expect.any(String) });
  });

  it("keeps Swarm's ports to the overlay: VXLAN from the machines' own network is dropped, over the overlay it passes", async () => {
    const dropped = async () => Number(await onHost('vagrant2', "iptables -w -L PCC-SWARM -v -x -n | awk '/udp dpt:4789/ {print $1}'"));
    const underlay = await onHost('vagrant2', "ip -4 -o addr show eth0 | awk '{sub(\"/.*\", \"\", $4); print $4}'");
    const before = await dropped();
    await onHost('vagrant1', `for i in 1 2 3; do echo probe > /dev/udp/${underlay}/4789; done`);
    expect(await dropped()).toBe(before + 3);
    await onHost('vagrant1', 'for i in 1 2 3; do echo probe > /dev/udp/10.128.0.3/4789; done');
    expect(await dropped()).toBe(before + 3);
    // And the chain comes back at boot, before Docker.
    expect(await onHost('vagrant2', 'systemctl is-enabled pcc-swarm-firewall.service')).toBe('enabled');
  });

  it('a saved host is drained and given no work; resume makes it available again', async () => {
    const saved = await pcc(project, ['save', 'vagrant2']);
    expect(saved.exitCode, saved.stderr).toBe(0);
    expect((await nodeOf('vagrant2'))?.Spec.Availability).toBe('drain');
    const result = await run(['probe', '--on', 'cpu', '--replicas', '2']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(hostsOf(result.record)).toEqual(['vagrant1', 'vagrant1']);
    const refused = await pcc(project, ['run', 'probe', '--on', 'vagrant2']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/no host of "vagrant2" can take work: vagrant2 is stopped/);

    const resumed = await pcc(project, ['resume', 'vagrant2']);
    expect(resumed.exitCode === 0 || /project-share/.test(resumed.stderr), resumed.stderr).toBe(true);
    expect((await nodeOf('vagrant2'))?.Spec.Availability).toBe('active');
    const back = await run(['probe', '--on', 'vagrant2']);
    expect(back.exitCode, back.stderr).toBe(0);
    expect(hostsOf(back.record)).toEqual(['vagrant2']);
  });

  it('a GPU host advertises its GPUs to Swarm as NVIDIA-GPU generic resources (nvidia-smi fixture), and stops when they are gone', async () => {
    const uuids = ['GPU-5d3a1b9e-0000-4000-8000-000000000001', 'GPU-5d3a1b9e-0000-4000-8000-000000000002'];
    const fixture = `#!/bin/sh\n[ "$*" = "--query-gpu=uuid --format=csv,noheader" ] || exit 9\nprintf '%s\\n' ${uuids.join(' ')}\n`;
    await onHost('vagrant1', `echo ${Buffer.from(fixture).toString('base64')} | base64 -d > /usr/local/bin/nvidia-smi && chmod +x /usr/local/bin/nvidia-smi`);
    expect(await onHost('vagrant1', 'nvidia-smi --query-gpu=uuid --format=csv,noheader')).toBe(uuids.join('\n'));
    const gpuSetup = await pcc(project, ['setup', 'vagrant1', '--json']);
    const steps = (JSON.parse(gpuSetup.stdout) as { hosts: { steps: { step: string; outcome: string; changes: string[] }[] }[] }).hosts[0]?.steps ?? [];
    expect(steps.find((step) => step.step === 'swarm')).toMatchObject({ outcome: 'changed', changes: [expect.stringMatching(/advertise 2 GPUs to Swarm as NVIDIA-GPU generic resources/)] });
    const advertised = async () =>
      ((await nodeOf('vagrant1'))?.Description.Resources.GenericResources ?? []).map((resource) => `${resource.NamedResourceSpec?.Kind}=${resource.NamedResourceSpec?.Value}`).sort();
    for (let i = 0; i < 40 && (await advertised()).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await advertised()).toEqual(uuids.map((uuid) => `NVIDIA-GPU=${uuid}`));
    expect(JSON.parse(await onHost('vagrant1', 'cat /etc/docker/daemon.json'))['node-generic-resources']).toEqual(uuids.map((uuid) => `NVIDIA-GPU=${uuid}`));
    expect((await nodeOf('vagrant1'))?.Status.State).toBe('ready');

    await onHost('vagrant1', 'rm /usr/local/bin/nvidia-smi');
    await pcc(project, ['setup', 'vagrant1']);
    for (let i = 0; i < 40 && (await advertised()).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await advertised()).toEqual([]);
    expect(JSON.parse(await onHost('vagrant1', 'cat /etc/docker/daemon.json'))).not.toHaveProperty('node-generic-resources');
  });

  it('destroying a host takes its node out of the swarm', async () => {
    const destroyed = await pcc(project, ['destroy', 'vagrant2', '--yes']);
    expect(destroyed.exitCode, destroyed.stderr).toBe(0);
    expect((await nodes()).map((node) => node.Description.Hostname).sort(), destroyed.stderr).toEqual(['init', 'vagrant1']);
    expect(existsSync(path.join(project.root, '.pcc', 'runs'))).toBe(true);
  });
});
