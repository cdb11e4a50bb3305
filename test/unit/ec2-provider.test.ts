import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand,
  CancelSpotInstanceRequestsCommand,
  CreateImageCommand,
  DeleteSecurityGroupCommand,
  DeregisterImageCommand,
  DescribeInstanceTypeOfferingsCommand,
  EC2Client,
  ImportKeyPairCommand,
  ModifyVolumeCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Tag,
} from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { createEngine } from '../../src/engine/engine.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { destroy, listImages, removeImages, resume, save, up, viewOf } from '../../src/engine/lifecycle.js';
import type { HostRecord } from '../../src/engine/state.js';
import { overlayMembers } from '../../src/engine/overlay/members.js';
import { peerSections } from '../../src/engine/overlay/wireguard.js';
import { reconcile } from '../../src/engine/reconcile.js';
import { Ec2Provider } from '../../src/providers/ec2/ec2-provider.js';
import type { Machine } from '../../src/providers/provider.js';
import { awsError, FakeEc2 } from '../helpers/fake-ec2.js';
import { makeProject, tempDir } from '../helpers/project.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';
const FAST = { retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 2 }, wait: { minDelay: 0.001, maxDelay: 0.002 } };

/** The tags of an instance and its disk; `systemGb` is the base image's own root size. */
function projectTags(type: string, host?: string): Tag[] {
  return [
    { Key: 'pcc:project', Value: 'demo' },
    { Key: 'Name', Value: `pcc-demo-${type}` },
    { Key: 'pcc:type', Value: type },
    ...(host ? [{ Key: 'pcc:host', Value: host }] : []),
    { Key: 'pcc:system-gb', Value: type === 'gpu' ? '75' : '8' },
  ];
}

/** A project with AWS keys in config/.private, its engine on a fake EC2, and everything it reported. */
function world(options: { projectEnv?: string; privateEnv?: string } = {}) {
  const root = makeProject({
    'project.env': `PROJECT_NAME=demo\nAWS_REGION=eu-west-1\nEC2_SSH_CIDRS=203.0.113.7/32\n${options.projectEnv ?? ''}`,
    '.private': options.privateEnv ?? `AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=${SECRET}\n`,
  });
  // The project's identity in AWS (tags, key pair, group); a new project gets a random suffix, see 'two projects named alike'.
  mkdirSync(path.join(root, '.pcc'), { recursive: true });
  writeFileSync(path.join(root, '.pcc', 'project-id'), 'demo\n');
  // Its own home: pcc keeps the project's private state there, by identity.
  const home = tempDir('pcc-home-');
  mkdirSync(path.join(home, '.ssh'), { recursive: true });
  const config = loadConfig(root, { HOME: home });
  const fake = new FakeEc2(
    new EC2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET } }),
  );
  fake.addresses = ['198.51.100.10', '198.51.100.11', '198.51.100.12', '198.51.100.13'];
  const provider = new Ec2Provider(config, {}, { client: fake.client, ...FAST });
  const engine = createEngine(config, { env: { HOME: home }, home, providers: [provider] });
  const events: EngineEvent[] = [];
  engine.events.subscribe((event) => events.push(event));
  const lines: string[] = [];
  const output = (line: string, machine?: string) => lines.push(machine ? `${machine}: ${line}` : line);
  const planned: Machine[][] = [];
  const upRequest = (request: Partial<Parameters<Ec2Provider['up']>[0]> = {}) =>
    provider.up({ count: 1, computeType: 'cpu', onPlanned: async (machines) => void planned.push(machines), ...request }, output);
  return { root, config, fake, provider, engine, events, lines, output, planned, upRequest, home };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('EC2 provider: up', () => {
  it('up cpu: newest Ubuntu 24.04, pcc key pair, the project security group, tags, one RunInstances per machine', async () => {
    const { fake, provider, upRequest, planned, config } = world();
    const machines = await upRequest({ count: 2 });

    const group = [...fake.groups.values()][0];
    const publicKey = readFileSync(path.join(config.privateDir, 'ssh', 'id_ed25519.pub'), 'utf8').trim();
    // One launch per machine: the fake's eventual consistency makes each retry RunInstances with the same ClientToken.
    const runs = [...new Map(fake.inputs(RunInstancesCommand).map((run) => [run.ClientToken, run])).values()];
    expect(runs).toHaveLength(2);
    expect(runs[0]).toEqual({
      ImageId: 'ami-0a1b2c3d4e5f60002',
      InstanceType: 'c7i.2xlarge',
      MinCount: 1,
      MaxCount: 1,
      KeyName: 'pcc-demo',
      NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: true, Groups: [group?.GroupId], DeleteOnTermination: true }],
      ClientToken: expect.stringMatching(/^[0-9a-f-]{36}$/),
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: 8 + 10, VolumeType: 'gp3', DeleteOnTermination: true } }],
      MetadataOptions: { HttpTokens: 'required' },
      InstanceInitiatedShutdownBehavior: 'stop',
      TagSpecifications: [
        { ResourceType: 'instance', Tags: projectTags('cpu') },
        { ResourceType: 'volume', Tags: projectTags('cpu') },
      ],
    });
    expect(runs[1]?.ClientToken).not.toBe(runs[0]?.ClientToken);

    expect(fake.inputs(ImportKeyPairCommand)).toEqual([
      {
        KeyName: 'pcc-demo',
        PublicKeyMaterial: new TextEncoder().encode(publicKey),
        TagSpecifications: [{ ResourceType: 'key-pair', Tags: [{ Key: 'pcc:project', Value: 'demo' }, { Key: 'Name', Value: 'pcc-demo' }, { Key: 'pcc:type', Value: 'key-pair' }] }],
      },
    ]);
    expect(group?.Tags).toEqual([{ Key: 'pcc:project', Value: 'demo' }, { Key: 'Name', Value: 'pcc-demo' }, { Key: 'pcc:type', Value: 'security-group' }]);
    // SSH and the overlay port only from EC2_SSH_CIDRS; members reach each other.
    expect(group?.IpPermissions).toEqual([
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '203.0.113.7/32' }] },
      { IpProtocol: 'udp', FromPort: 51820, ToPort: 51820, IpRanges: [{ CidrIp: '203.0.113.7/32' }] },
      { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: group?.GroupId }] },
    ]);

    const ids = [...fake.instances.keys()];
    // Each machine was reported (for state) as soon as it was launched, before the waits.
    expect(planned.map((batch) => batch.map((machine) => [machine.name, machine.state]))).toEqual([[[ids[0], 'creating']], [[ids[1], 'creating']]]);
    expect(machines).toEqual(ids.map((id) => ({
      name: id, provider: 'ec2', role: 'compute', computeType: 'cpu', state: 'running', extras: { instanceType: 'c7i.2xlarge', instanceId: id }, privateAddress: expect.stringMatching(/^172\.31\./),
    })));
    expect(await provider.sshEndpoint(ids[0] ?? '')).toEqual({
      host: '198.51.100.10', port: 22, user: 'ubuntu', identityFile: path.join(config.privateDir, 'ssh', 'id_ed25519'),
    });
  });

  it('up gpu --spot --instance-type: the Deep Learning Base image, a persistent spot request that stops on interruption', async () => {
    const { fake, upRequest } = world();
    await upRequest({ computeType: 'gpu', machineType: 'g5.xlarge', spot: true });
    const [run] = fake.inputs(RunInstancesCommand);
    expect(run).toMatchObject({
      ImageId: 'ami-0a1b2c3d4e5f60003',
      InstanceType: 'g5.xlarge',
      KeyName: 'pcc-demo',
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: 75 + 10, VolumeType: 'gp3', DeleteOnTermination: true } }],
      InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'persistent', InstanceInterruptionBehavior: 'stop' } },
      TagSpecifications: [
        { ResourceType: 'instance', Tags: projectTags('gpu') },
        { ResourceType: 'volume', Tags: projectTags('gpu') },
        { ResourceType: 'spot-instances-request', Tags: projectTags('gpu') },
      ],
    });
  });

  it('EC2_AMI_CPU and EC2_INSTANCE_TYPE_CPU from config replace the defaults', async () => {
    const { fake, upRequest } = world({ projectEnv: 'EC2_AMI_CPU=ami-0a1b2c3d4e5f60001\nEC2_INSTANCE_TYPE_CPU=m7i.large\n' });
    await upRequest();
    expect(fake.inputs(RunInstancesCommand)[0]).toMatchObject({ ImageId: 'ami-0a1b2c3d4e5f60001', InstanceType: 'm7i.large' });
  });

  it('EC2 hosts reach each other over the overlay: every endpoint a member is given is one the security group admits', async () => {
    const { upRequest, engine, fake, config } = world();
    const machines = await upRequest({ count: 3 });
    await reconcile(engine);
    // As the overlay step leaves them: joined, each with its key and the address pcc reaches it at.
    await engine.state.update((state) => {
      machines.forEach((machine, index) => {
        const host = state.hosts[machine.name];
        if (host) host.overlay = { index: index + 2, peerId: `${"A".repeat(42)}${"AEI"[index]}=`, endpoint: fake.instances.get(machine.name)?.PublicIpAddress ?? '' };
      });
    });
    const members = overlayMembers(engine);
    const groupId = [...fake.groups.values()][0]?.GroupId ?? '';
    for (const self of members) {
      const endpoints = [...peerSections(self, members, config.hosts.compute).matchAll(/^Endpoint = ([\d.]+):(\d+)$/gm)];
      expect(endpoints).toHaveLength(2);
      for (const [, address = '', port] of endpoints) expect(fake.admits(groupId, address, 'udp', Number(port)), `${self.name} -> ${address}:${port}`).toBe(true);
    }
  });

  it('asks for a public address rather than relying on the default subnet, and terminates a host that gets none', async () => {
    const { fake, upRequest, engine } = world();
    fake.defaultSubnetPublic = false;
    const [machine] = await upRequest();
    expect(fake.instances.get(machine?.name ?? '')?.PublicIpAddress).toBe('198.51.100.10');

    fake.publicAddressesBlocked = true;
    await expect(upRequest()).rejects.toThrow(/came up without a public address, so pcc cannot reach them; they are terminated and bill nothing more/);
    const unreachable = [...fake.instances.values()].find((instance) => instance.InstanceId !== machine?.name);
    expect(unreachable?.State?.Name).toBe('terminated');
    expect(fake.tagged('demo').filter((id) => id.startsWith('i-'))).toEqual([machine?.name]);
    await reconcile(engine);
  });

  it("an EC2_AMI override of another architecture than the instance type's is one clear error before any launch", async () => {
    const { fake, upRequest } = world({ projectEnv: 'EC2_AMI_CPU=ami-0a1b2c3d4e5f60001\nEC2_INSTANCE_TYPE_CPU=m7g.large\n' });
    fake.offered.add('m7g.large');
    await expect(upRequest()).rejects.toThrow('EC2_AMI_CPU=ami-0a1b2c3d4e5f60001 is an x86_64 image, but the instance type runs arm64');
    expect(fake.inputs(RunInstancesCommand)).toEqual([]);
  });

  it('a region that does not offer the instance type, or a gpu type without a GPU, is one clear error before any launch', async () => {
    const { fake, upRequest } = world();
    await expect(upRequest({ machineType: 'p5.48xlarge' })).rejects.toMatchObject({
      message: 'instance type p5.48xlarge is not offered in eu-west-1',
      hint: expect.stringContaining('--instance-type'),
    });
    await expect(upRequest({ computeType: 'gpu', machineType: 'm7i.large' })).rejects.toThrow('instance type m7i.large has no GPU');
    expect(fake.inputs(RunInstancesCommand)).toEqual([]);
  });

  it('InsufficientInstanceCapacity says that AWS has no capacity', async () => {
    const { fake, upRequest } = world();
    fake.failNext(RunInstancesCommand, awsError('InsufficientInstanceCapacity', 'We currently do not have sufficient c7i.2xlarge capacity in the Availability Zone you requested.'));
    await expect(upRequest()).rejects.toMatchObject({
      message: 'cannot launch a c7i.2xlarge: AWS has no c7i.2xlarge capacity in eu-west-1 right now (InsufficientInstanceCapacity)',
      hint: expect.stringContaining('another instance type'),
    });
  });

  it('throttling is retried with backoff, and the retried launch is the same launch (one instance)', async () => {
    const { fake, upRequest } = world();
    // Throttling alone here (eventual consistency has its own test): five attempts in all.
    fake.consistencyCalls = 0;
    fake.failNext(RunInstancesCommand, awsError('RequestLimitExceeded', 'Request limit exceeded.'), 3);
    fake.failNext(DescribeInstanceTypeOfferingsCommand, awsError('Throttling', 'Rate exceeded'), 2);
    const [machine] = await upRequest();
    const runs = fake.inputs(RunInstancesCommand);
    expect(runs).toHaveLength(4);
    expect(new Set(runs.map((run) => run.ClientToken)).size).toBe(1);
    expect([...fake.instances.keys()]).toEqual([machine?.name]);
    expect(fake.inputs(DescribeInstanceTypeOfferingsCommand)).toHaveLength(3);
  });

  it("a group and key pair just made, which AWS does not know yet for a moment, are retried: one instance, every rule in place", async () => {
    const { fake, upRequest } = world();
    fake.consistencyCalls = 2;
    const [machine] = await upRequest();
    expect([...fake.instances.keys()]).toEqual([machine?.name]);
    // Two NotFound answers for the new group before the rules went in; the launch retried with one ClientToken.
    expect(fake.inputs(AuthorizeSecurityGroupIngressCommand)).toHaveLength(3);
    expect([...fake.groups.values()][0]?.IpPermissions?.length).toBeGreaterThan(0);
    expect(new Set(fake.inputs(RunInstancesCommand).map((run) => run.ClientToken)).size).toBe(1);
  });

  it('throttling that does not stop ends in a clear error once the retries are spent', async () => {
    const { fake, upRequest } = world();
    fake.failNext(RunInstancesCommand, awsError('RequestLimitExceeded'), 5);
    await expect(upRequest()).rejects.toThrow('cannot launch a c7i.2xlarge: AWS kept throttling the requests (RequestLimitExceeded)');
    expect(fake.inputs(RunInstancesCommand)).toHaveLength(5);
    expect(fake.instances.size).toBe(0);
  });

  it('when the second of two launches fails, the first is in state: nothing runs unknown', async () => {
    const { fake, engine, events } = world();
    engine.events.subscribe((event) => {
      if (event.type === 'host.state' && event.state === 'creating') fake.failNext(RunInstancesCommand, awsError('InsufficientInstanceCapacity'));
    });
    await expect(up(engine, 'ec2', { count: 2, computeType: 'cpu' })).rejects.toThrow(
      /AWS has no c7i.2xlarge capacity in eu-west-1 right now \(InsufficientInstanceCapacity\) \(launched before it and tracked: i-/,
    );
    expect(new Set(fake.inputs(RunInstancesCommand).map((run) => run.ClientToken)).size).toBe(2);
    const launched = [...fake.instances.keys()];
    expect(launched).toHaveLength(1);
    expect(Object.keys(engine.state.read().hosts)).toEqual(launched);
    expect(events).toContainEqual(expect.objectContaining({ type: 'task', task: 'up', phase: 'failed' }));
    // The next command finds it running and records it as such.
    await reconcile(engine);
    expect(engine.state.read().hosts[launched[0] ?? '']?.state).toBe('running');
  });

  it('an instance that ends instead of running reports AWS reason', async () => {
    const { fake, upRequest, engine } = world();
    engine.events.subscribe(() => undefined);
    const launch = upRequest({
      onPlanned: async ([machine]) => void fake.failToRun.set(machine?.name ?? '', 'Server.InsufficientInstanceCapacity: Insufficient capacity.'),
    });
    await expect(launch).rejects.toMatchObject({
      message: expect.stringMatching(/^instances did not start: i-\S+ is terminated: Server.InsufficientInstanceCapacity: Insufficient capacity.$/),
      hint: expect.stringContaining('no capacity'),
    });
  });

  it('without EC2_SSH_CIDRS, up refuses before any AWS call: pcc opens nothing to the internet on its own', async () => {
    const root = makeProject({ 'project.env': 'PROJECT_NAME=demo\nAWS_REGION=eu-west-1\n' });
    const fake = new FakeEc2();
    const provider = new Ec2Provider(loadConfig(root, {}), {}, { client: fake.client, ...FAST });
    await expect(provider.up({ count: 1, computeType: 'cpu' }, () => undefined)).rejects.toMatchObject({
      message: expect.stringContaining('EC2_SSH_CIDRS is not set'),
      hint: expect.stringContaining('EC2_SSH_CIDRS=203.0.113.4/32'),
    });
    expect(fake.mock.calls()).toHaveLength(0);
  });

  it('vagrant refuses --instance-type and --spot by capability, and --relaunch needs --spot, without calling any provider', async () => {
    const root = makeProject({});
    const engine = createEngine(loadConfig(root, {}), { env: {}, home: tempDir('pcc-home-') });
    await expect(up(engine, 'vagrant', { count: 1, computeType: 'cpu', spot: true })).rejects.toThrow('the vagrant provider has no spot capacity');
    await expect(up(engine, 'ec2', { count: 1, computeType: 'cpu', relaunch: true })).rejects.toThrow('--relaunch replaces a spot host after an interruption: it needs --spot');
    await expect(up(engine, 'vagrant', { count: 1, computeType: 'cpu', machineType: 'big' })).rejects.toThrow('the vagrant provider has no machine types to choose from');
  });
});

describe('EC2 provider: state, save, images, destroy', () => {
  it('a project that never used EC2 makes no AWS call', async () => {
    const { fake, provider, engine } = world({ privateEnv: '' });
    expect(await provider.list()).toEqual([]);
    expect(await provider.images()).toEqual([]);
    expect(await provider.tidyUp(() => undefined)).toEqual([]);
    expect(await reconcile(engine)).toEqual([]);
    expect(fake.mock.calls()).toHaveLength(0);
  });

  it('reconcile adopts tagged instances pcc did not record (SSH aliases ec2-ID, cpu-ID) and marks vanished ones gone', async () => {
    const { fake, engine, upRequest, events } = world();
    const [machine] = await upRequest();
    const id = machine?.name ?? '';
    expect(engine.state.read().hosts).toEqual({});
    const [host] = await reconcile(engine);
    expect(host).toMatchObject({ name: id, provider: 'ec2', state: 'running', extras: { instanceType: 'c7i.2xlarge', instanceId: id }, ssh: { host: '198.51.100.10', user: 'ubuntu' } });
    expect(events).toContainEqual({ type: 'log', level: 'warn', message: 'adopted: ec2 has it but pcc had no record of it', host: id });
    const sshConfig = readFileSync(engine.sshConfig.pccFile, 'utf8');
    expect(sshConfig).toContain(`Host ${id} ec2-${id} cpu-${id} c7i.2xlarge-${id}\n  HostName 198.51.100.10\n  Port 22\n  User ubuntu`);

    await fake.client.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await reconcile(engine);
    expect(engine.state.read().hosts[id]?.state).toBe('gone');
  });

  it('save stops the instance; start brings it back at a new address', async () => {
    const { provider, upRequest, engine, fake } = world();
    const [machine] = await upRequest();
    const id = machine?.name ?? '';
    await reconcile(engine);
    const [saved] = await save(engine, 'ec2');
    expect(saved).toMatchObject({ name: id, state: 'saved' });
    expect(fake.instances.get(id)?.State?.Name).toBe('stopped');
    await provider.start([id], () => undefined);
    expect(fake.instances.get(id)?.State?.Name).toBe('running');
    expect((await provider.sshEndpoint(id)).host).toBe('198.51.100.11');
  });

  it('a host that powers itself off (idle stop) is stopped, not terminated, and pcc shows why after its next reconcile', async () => {
    const { provider, upRequest, engine, fake, events } = world();
    const [first, second] = await upRequest({ count: 2 });
    const [idle, other] = [first?.name ?? '', second?.name ?? ''];
    await reconcile(engine);
    fake.shutdownFromInside(idle, '[  OK  ] Stopped target Multi-User System.\npcc-stop: idle 30 min at 2026-12-01T03:00:00Z\n');
    // A poweroff that was not pcc's idle stop, and a console line that is not plain words: no reason.
    fake.shutdownFromInside(other, 'pcc-stop: idle $(reboot) at 2026-12-01T03:00:00Z\n');
    const hosts = await reconcile(engine);
    expect(fake.instances.get(idle)?.State?.Name).toBe('stopped');
    expect(hosts.find((host) => host.name === idle)).toMatchObject({ state: 'saved', selfStop: { reason: 'idle 30 min', at: '2026-12-01T03:00:00Z' } });
    expect(hosts.find((host) => host.name === other)?.selfStop).toBeUndefined();
    expect(events).toContainEqual(expect.objectContaining({ type: 'host.state', host: idle, state: 'saved', stopReason: 'idle 30 min' }));
    expect(viewOf(engine, engine.state.read().hosts[idle] as HostRecord).selfStop).toEqual({ reason: 'idle 30 min', at: '2026-12-01T03:00:00Z' });

    // Running again, the reason is history.
    await provider.start([idle], () => undefined);
    await reconcile(engine);
    expect(engine.state.read().hosts[idle]?.selfStop).toBeUndefined();
  });

  it('cost: a running host is priced by its type since its last start, a stopped one by its disk, one saved as an image by its snapshots', async () => {
    const { provider, upRequest, engine, fake } = world({ projectEnv: 'EC2_PRICES=c7i.2xlarge=0.5\n' });
    const [machine] = await upRequest();
    const id = machine?.name ?? '';
    const instance = fake.instances.get(id) as NonNullable<ReturnType<typeof fake.instances.get>>;
    instance.LaunchTime = new Date(Date.now() - 3 * 3600_000);
    await reconcile(engine);
    const diskGb = [...fake.volumes.values()].find((volume) => volume.Attachments?.[0]?.InstanceId === id)?.Size ?? 0;
    expect(diskGb).toBeGreaterThan(0);
    const running = viewOf(engine, engine.state.read().hosts[id] as HostRecord).cost;
    expect(running).toMatchObject({ perHour: 0.5, storage: [{ kind: 'volume', gb: diskGb }], instanceSource: { source: 'EC2_PRICES (config/project.env:4)' } });
    expect(running?.storagePerMonth).toBeCloseTo(diskGb * 0.08, 10);
    expect(running?.sinceStart).toBeGreaterThanOrEqual(1.5);
    expect(running?.sinceStart).toBeLessThan(1.51);

    await save(engine, id);
    const stopped = viewOf(engine, engine.state.read().hosts[id] as HostRecord).cost;
    expect(stopped).toMatchObject({ runningSince: undefined, sinceStart: undefined, storage: [{ kind: 'volume', gb: diskGb }] });

    // A resume is a new start: the cost since then starts again.
    await provider.start([id], () => undefined);
    await reconcile(engine);
    expect(viewOf(engine, engine.state.read().hosts[id] as HostRecord).cost?.sinceStart).toBeLessThan(0.01);

    await save(engine, id, { image: true });
    const image = viewOf(engine, engine.state.read().hosts[id] as HostRecord).cost;
    expect(image).toMatchObject({ runningSince: undefined, storage: [{ kind: 'snapshot', gb: diskGb }], savedAt: expect.any(String) });
    expect(image?.storagePerMonth).toBeCloseTo(diskGb * 0.05, 10);
  });

  it('save --image: image and snapshots tagged for the host, instance and spot request gone; resume launches it from the image', async () => {
    const { provider, upRequest, engine, fake, lines } = world();
    const [machine] = await upRequest({ spot: true, computeType: 'gpu' });
    const id = machine?.name ?? '';
    await reconcile(engine);

    await save(engine, id, { image: true });
    const [create] = fake.inputs(CreateImageCommand);
    const imageTags = [
      { Key: 'pcc:project', Value: 'demo' },
      { Key: 'Name', Value: `pcc-demo-${id}` },
      { Key: 'pcc:type', Value: 'gpu' },
      { Key: 'pcc:host', Value: id },
      { Key: 'pcc:instance-type', Value: 'g5.xlarge' },
      { Key: 'pcc:market', Value: 'spot' },
      { Key: 'pcc:system-gb', Value: '75' },
    ];
    expect(create).toEqual({
      InstanceId: id,
      Name: expect.stringMatching(new RegExp(`^pcc-demo-${id}-\\d{4}-\\d\\d-\\d\\dT[\\d-]+Z$`)),
      Description: `pcc project demo: host ${id}, saved by pcc save --image`,
      TagSpecifications: [{ ResourceType: 'image', Tags: imageTags }, { ResourceType: 'snapshot', Tags: imageTags }],
    });
    expect(fake.instances.get(id)?.State?.Name).toBe('terminated');
    // The persistent spot request is cancelled first; otherwise AWS would launch the instance again.
    expect(fake.inputs(CancelSpotInstanceRequestsCommand)).toEqual([{ SpotInstanceRequestIds: [fake.instances.get(id)?.SpotInstanceRequestId] }]);
    const [image] = await listImages(engine);
    expect(image).toMatchObject({ provider: 'ec2', host: id, computeType: 'gpu', state: 'available', sizeGb: 85 });
    expect(engine.state.read().hosts[id]).toMatchObject({ state: 'saved', extras: { instanceType: 'g5.xlarge' } });

    await provider.start([id], (line) => lines.push(line));
    const resumed = fake.inputs(RunInstancesCommand).at(-1);
    expect(resumed).toMatchObject({
      ImageId: image?.id,
      InstanceType: 'g5.xlarge',
      KeyName: 'pcc-demo',
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: 85, VolumeType: 'gp3', DeleteOnTermination: true } }],
      InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'persistent', InstanceInterruptionBehavior: 'stop' } },
      TagSpecifications: [
        { ResourceType: 'instance', Tags: projectTags('gpu', id) },
        { ResourceType: 'volume', Tags: projectTags('gpu', id) },
        { ResourceType: 'spot-instances-request', Tags: projectTags('gpu', id) },
      ],
    });
    expect(Buffer.from(resumed?.UserData ?? '', 'base64').toString()).toBe('#cloud-config\nssh_deletekeys: false\n');
    // The host lives in its new instance: same name, new instance id; the image and its snapshots are gone.
    const newId = [...fake.instances.values()].find((instance) => instance.State?.Name === 'running')?.InstanceId ?? '';
    expect(newId).not.toBe(id);
    expect(await provider.list()).toEqual([{ name: id, provider: 'ec2', role: 'compute', computeType: 'gpu', state: 'running', extras: { instanceType: 'g5.xlarge', instanceId: newId }, privateAddress: expect.stringMatching(/^172\.31\./),
      billing: { instanceType: 'g5.xlarge', spot: true, runningSince: expect.any(String), storage: [{ kind: 'volume', gb: expect.any(Number) }] } }]);
    expect(fake.images.size).toBe(0);
    expect(fake.snapshots.size).toBe(0);
    await reconcile(engine);
    expect(engine.state.read().hosts[id]?.extras).toEqual({ instanceType: 'g5.xlarge', instanceId: newId });
  });

  it('pcc images rm deletes a saved image and its snapshots; its host is gone with it', async () => {
    const { upRequest, engine, fake } = world();
    const [machine] = await upRequest();
    await reconcile(engine);
    await save(engine, machine?.name ?? '', { image: true });
    const [image] = await listImages(engine);
    await expect(removeImages(engine, ['ami-0000000000000dead'])).rejects.toThrow('ami-0000000000000dead is not an image pcc saved for this project');
    await removeImages(engine, [image?.id ?? '']);
    expect(await listImages(engine)).toEqual([]);
    // The snapshots go with the image in one call: deleting them after it meets InvalidSnapshot.InUse.
    expect(fake.inputs(DeregisterImageCommand)).toEqual([{ ImageId: image?.id, DeleteAssociatedSnapshots: true }]);
    expect(fake.snapshots.size).toBe(0);
    expect(engine.state.read().hosts[machine?.name ?? '']?.state).toBe('gone');
  });

  it('destroy ec2 terminates, waits, deletes the group (retrying while AWS still holds it) and the key pair; the leak check is empty', async () => {
    const { upRequest, engine, fake, config, events } = world();
    await upRequest({ count: 2, spot: true });
    await reconcile(engine);
    const [first] = [...fake.instances.keys()];
    await save(engine, first ?? '', { image: true });
    expect(fake.tagged('demo').length).toBeGreaterThan(0);

    fake.failNext(DeleteSecurityGroupCommand, awsError('DependencyViolation', 'resource has a dependent object'), 2);
    const report = await destroy(engine, 'ec2');
    expect(report.destroyed.sort()).toEqual([...fake.instances.keys()].sort());
    expect(report.left).toEqual([]);
    expect(fake.tagged('demo')).toEqual([]);
    expect(fake.inputs(DeleteSecurityGroupCommand)).toHaveLength(3);
    expect([...fake.instances.values()].every((instance) => instance.State?.Name === 'terminated')).toBe(true);
    expect(engine.state.read().hosts).toEqual({});
    expect(events).toContainEqual({ type: 'log', level: 'info', message: 'ec2: nothing of the project is left' });
    expect(existsSync(path.join(config.privateDir, 'ec2', 'region'))).toBe(false);

    // Nothing left to do: a second destroy ec2 only runs the leak check.
    expect(await destroy(engine, 'ec2')).toEqual({ destroyed: [], left: [] });
  });

  it('two projects named alike never touch each other: destroy ec2 of one leaves the other running', async () => {
    const fake = new FakeEc2(new EC2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET } }));
    fake.addresses = ['198.51.100.20', '198.51.100.21'];
    const project = () => {
      // Two clones called proj, with the same PROJECT_NAME: only their stored identities differ.
      const root = makeProject({ 'project.env': 'PROJECT_NAME=proj\nAWS_REGION=eu-west-1\nEC2_SSH_CIDRS=203.0.113.7/32\n', '.private': `AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=${SECRET}\n` }, 'proj');
      const config = loadConfig(root, {});
      const provider = new Ec2Provider(config, {}, { client: fake.client, ...FAST });
      const home = tempDir('pcc-home-');
      return { config, provider, engine: createEngine(config, { env: { HOME: home }, home, providers: [provider] }) };
    };
    const a = project();
    const b = project();
    expect(a.config.project.id).toMatch(/^proj-[0-9a-f]{6}$/);
    expect(b.config.project.id).not.toBe(a.config.project.id);
    expect(loadConfig(a.config.root, {}).project.id).toBe(a.config.project.id);
    expect(a.engine.sshConfig.pccFile).not.toBe(b.engine.sshConfig.pccFile);

    await a.provider.up({ count: 1, computeType: 'cpu' }, () => undefined);
    await b.provider.up({ count: 1, computeType: 'cpu' }, () => undefined);
    const [aInstance, bInstance] = [...fake.instances.keys()];
    expect((await reconcile(a.engine)).map((host) => host.name)).toEqual([aInstance]);
    expect((await reconcile(b.engine)).map((host) => host.name)).toEqual([bInstance]);

    const report = await destroy(a.engine, 'ec2');
    expect(report).toEqual({ destroyed: [aInstance], left: [] });
    expect(fake.instances.get(bInstance ?? '')?.State?.Name).toBe('running');
    expect(fake.tagged(a.config.project.id)).toEqual([]);
    expect(fake.tagged(b.config.project.id).length).toBeGreaterThan(0);
    expect((await reconcile(b.engine)).map((host) => [host.name, host.state])).toEqual([[bInstance, 'running']]);
  });

  it('a project pcc worked on before identities existed keeps its name as its identity', () => {
    const root = makeProject({ 'project.env': 'PROJECT_NAME=demo\n' });
    mkdirSync(path.join(root, '.pcc', 'ec2'), { recursive: true });
    writeFileSync(path.join(root, '.pcc', 'ec2', 'region'), 'eu-west-1\n');
    const config = loadConfig(root, { HOME: tempDir('pcc-home-') });
    expect(config.project.id).toBe('demo');
    expect(readFileSync(path.join(root, '.pcc', 'project-id'), 'utf8')).toBe('demo\n');
    // Its region pin moved out of the project folder, to pcc's private state.
    expect(readFileSync(path.join(config.privateDir, 'ec2', 'region'), 'utf8')).toBe('eu-west-1\n');
    expect(existsSync(path.join(root, '.pcc', 'ec2'))).toBe(false);
  });

  it('destroying one of two hosts keeps what the other uses, and says so', async () => {
    const { upRequest, engine, fake } = world();
    const [first, second] = await upRequest({ count: 2 });
    await reconcile(engine);
    const report = await destroy(engine, first?.name ?? '');
    expect(report.destroyed).toEqual([first?.name]);
    const other = second?.name ?? '';
    const volume = [...fake.volumes.values()][0]?.VolumeId;
    expect(report.left).toEqual([
      { provider: 'ec2', kind: 'instance', id: other, reason: `host ${other} is running and was not destroyed` },
      { provider: 'ec2', kind: 'volume', id: volume, reason: `disk of ${other}` },
      { provider: 'ec2', kind: 'security group', id: [...fake.groups.keys()][0], reason: `used by hosts still there: ${other}` },
      { provider: 'ec2', kind: 'key pair', id: 'pcc-demo', reason: `used by hosts still there: ${other}` },
    ]);
  });

  it('a spot instance EC2 stopped on an interruption shows as interrupted with the reason its watch recorded; resume says only EC2 can start it, and touches nothing', async () => {
    const { upRequest, engine, fake, events } = world();
    const [machine] = await upRequest({ spot: true });
    const id = machine?.name ?? '';
    await reconcile(engine);
    fake.interrupt(id);
    // The watch on the host saw the two-minute notice first and said so on the console.
    fake.console.set(id, 'pcc-stop: spot interruption at 2026-12-01T04:00:00Z\n');
    const hosts = await reconcile(engine);
    expect(hosts.find((host) => host.name === id)).toMatchObject({ state: 'interrupted', selfStop: { reason: 'spot interruption', at: '2026-12-01T04:00:00Z' } });
    expect(events).toContainEqual(expect.objectContaining({ type: 'host.state', host: id, state: 'interrupted', stopReason: 'spot interruption' }));
    await expect(resume(engine, id)).rejects.toThrow(new RegExp(`${id} is a spot instance that EC2 stopped on an interruption \\(instance-stopped-no-capacity\\): only EC2 can start it again`));
    await expect(resume(engine, id)).rejects.toMatchObject({ hint: expect.stringContaining('EC2 starts it by itself when spot capacity returns, and it bills from then on') });
    expect(fake.inputs(StartInstancesCommand)).toEqual([]);
    expect(fake.instances.get(id)?.State?.Name).toBe('stopped');
  });

  it('save waits for a pending instance to run before it stops it (AWS refuses to stop a pending one)', async () => {
    const { upRequest, provider, fake, output } = world();
    const [machine] = await upRequest();
    const id = machine?.name ?? '';
    // Started again behind pcc's back: pending for a few more looks.
    const instance = fake.instances.get(id);
    if (instance) instance.State = { Name: 'pending', Code: 0 };
    fake.slowStart.set(id, 3);
    await provider.save([id], output);
    expect(fake.instances.get(id)?.State?.Name).toBe('stopped');
    expect(fake.inputs(StopInstancesCommand)).toEqual([{ InstanceIds: [id] }]);
  });

  it('destroy right after a launch (the instance still pending) waits for it to end, instead of failing on the first look', async () => {
    const { engine, fake, upRequest } = world();
    const [machine] = await upRequest();
    const id = machine?.name ?? '';
    await reconcile(engine);
    const instance = fake.instances.get(id);
    if (instance) instance.State = { Name: 'pending', Code: 0 };
    fake.slowStart.set(id, 10);
    const report = await destroy(engine, id);
    expect(report.destroyed).toEqual([id]);
    expect(fake.instances.get(id)?.State?.Name).toBe('terminated');
  });

  it('the region the project resources live in is pinned', async () => {
    const { upRequest, config } = world();
    await upRequest();
    const elsewhere = new Ec2Provider(config, {}, { client: new FakeEc2(new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIAX', secretAccessKey: 'x' } })).client, ...FAST });
    await expect(elsewhere.list()).rejects.toMatchObject({
      message: "this project's EC2 resources are in eu-west-1, but the AWS region is now us-east-1",
      hint: expect.stringContaining('AWS_REGION=eu-west-1'),
    });
  });
});

describe('EC2 provider: room for VARLIBDOCKER_GB on the root disk', () => {
  /** The same project's provider on the same fake AWS, as a later run with another VARLIBDOCKER_GB sees it. */
  const withDockerGb = ({ root, home, fake }: { root: string; home: string; fake: FakeEc2 }, gb: number) =>
    new Ec2Provider(loadConfig(root, { HOME: home, VARLIBDOCKER_GB: String(gb) }), {}, { client: fake.client, ...FAST });
  const rootVolume = (fake: FakeEc2, id: string) => fake.volumes.get(fake.instances.get(id)?.BlockDeviceMappings?.[0]?.Ebs?.VolumeId ?? '');

  it('raising it grows the root volume to the system plus the new size, once, and waits until the size takes effect', async () => {
    const world_ = world();
    const { root, fake, upRequest, lines, output } = world_;
    const [machine] = await upRequest();
    const id = machine?.name ?? '';
    expect(rootVolume(fake, id)?.Size).toBe(8 + 10);
    const resized: string[] = [];
    fake.onResize = async (volumeId, from, to) => void resized.push(`${volumeId} ${from}->${to}`);

    await withDockerGb(world_, 10).fitDisks([id], 10, output);
    expect(fake.inputs(ModifyVolumeCommand)).toEqual([]);

    await withDockerGb(world_, 25).fitDisks([id], 25, output);
    const volumeId = rootVolume(fake, id)?.VolumeId;
    expect(fake.inputs(ModifyVolumeCommand)).toEqual([{ VolumeId: volumeId, Size: 8 + 25 }]);
    expect(rootVolume(fake, id)?.Size).toBe(33);
    // Returned only once AWS applied the size (optimizing): the host's setup grows into it next.
    expect(resized).toEqual([`${volumeId} 18->33`]);
    expect(fake.modifications.get(volumeId ?? '')?.at(-1)?.ModificationState).toMatch(/optimizing|completed/);
    expect(lines).toContain(`${id}: growing the root disk ${volumeId} from 18 to 33 GiB (VARLIBDOCKER_GB=25)`);

    // Idempotent, and never a shrink: neither the same size again nor a smaller one asks AWS anything.
    await withDockerGb(world_, 25).fitDisks([id], 25, output);
    await withDockerGb(world_, 5).fitDisks([id], 5, output);
    expect(fake.inputs(ModifyVolumeCommand)).toHaveLength(1);
  });

  it("a second raise within AWS's six-hour cooldown is one clear error that says when it can work", async () => {
    const world_ = world();
    const { root, fake, upRequest, output } = world_;
    const [machine] = await upRequest();
    const id = machine?.name ?? '';
    await withDockerGb(world_, 20).fitDisks([id], 20, output);
    const error = await withDockerGb(world_, 30).fitDisks([id], 30, output).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      message: expect.stringMatching(new RegExp(`^${id}: its root disk vol-\\w+ could not grow from 28 to 38 GiB for VARLIBDOCKER_GB=30: .*Wait at least 6 hours`)),
      hint: expect.stringContaining('at most once every 6 hours'),
    });
    expect(rootVolume(fake, id)?.Size).toBe(28);
  });

  it("a modification AWS fails ends the wait at once with AWS's reason", async () => {
    const world_ = world();
    const { root, fake, upRequest, output } = world_;
    const [machine] = await upRequest();
    const id = machine?.name ?? '';
    fake.failModification.add(rootVolume(fake, id)?.VolumeId ?? '');
    await expect(withDockerGb(world_, 20).fitDisks([id], 20, output)).rejects.toThrow(/failed: An internal error has occurred/);
  });

  it('an instance pcc launched before it tagged the system size is left as it is', async () => {
    const world_ = world();
    const { root, fake, upRequest, output } = world_;
    const [machine] = await upRequest();
    const id = machine?.name ?? '';
    const instance = fake.instances.get(id);
    if (instance) instance.Tags = instance.Tags?.filter((tag) => tag.Key !== 'pcc:system-gb');
    await withDockerGb(world_, 40).fitDisks([id], 40, output);
    expect(fake.inputs(ModifyVolumeCommand)).toEqual([]);
  });

  it('resuming from an image keeps the saved size, and adds room when VARLIBDOCKER_GB grew since', async () => {
    const world_ = world();
    const { root, fake, upRequest, engine, output } = world_;
    const [machine] = await upRequest();
    const id = machine?.name ?? '';
    await reconcile(engine);
    await save(engine, id, { image: true });
    await withDockerGb(world_, 10).start([id], output);
    expect(fake.inputs(RunInstancesCommand).at(-1)?.BlockDeviceMappings?.[0]?.Ebs?.VolumeSize).toBe(18);
    const first = [...fake.instances.values()].find((instance) => instance.State?.Name === 'running')?.InstanceId ?? '';
    expect(rootVolume(fake, first)?.Size).toBe(18);

    await reconcile(engine);
    await save(engine, id, { image: true });
    await withDockerGb(world_, 30).start([id], output);
    const resumed = fake.inputs(RunInstancesCommand).at(-1);
    expect(resumed?.BlockDeviceMappings?.[0]?.Ebs?.VolumeSize).toBe(8 + 30);
    const running = [...fake.instances.values()].find((instance) => instance.State?.Name === 'running')?.InstanceId ?? '';
    expect(rootVolume(fake, running)?.Size).toBe(38);
    // The system size travels with the host through its images, for the next raise.
    expect(resumed?.TagSpecifications?.[0]?.Tags).toContainEqual({ Key: 'pcc:system-gb', Value: '8' });
  });
});

describe('EC2 credentials and secrets', () => {
  it('no credentials anywhere in the SDK chain: one message that says where to put them', async () => {
    const home = tempDir('pcc-nohome-');
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI']) vi.stubEnv(name, undefined);
    vi.stubEnv('HOME', home);
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', path.join(home, 'credentials'));
    vi.stubEnv('AWS_CONFIG_FILE', path.join(home, 'config'));
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    const root = makeProject({ 'project.env': 'PROJECT_NAME=demo\nAWS_REGION=eu-west-1\nEC2_SSH_CIDRS=203.0.113.7/32\n' });
    const provider = new Ec2Provider(loadConfig(root, {}), { HOME: home }, FAST);
    await expect(provider.up({ count: 1, computeType: 'cpu' }, () => undefined)).rejects.toMatchObject({
      message: 'cannot use AWS: no AWS credentials found',
      hint: expect.stringContaining('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in config/.private'),
      exitCode: 2,
    });
  });

  it("an expired SSO session or a missing profile keeps AWS's own words", async () => {
    const home = tempDir('pcc-sso-');
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI']) vi.stubEnv(name, undefined);
    vi.stubEnv('HOME', home);
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', path.join(home, 'credentials'));
    vi.stubEnv('AWS_CONFIG_FILE', path.join(home, 'config'));
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    const startUrl = 'https://example.awsapps.com/start';
    writeFileSync(path.join(home, 'config'), `[profile lab]\nsso_start_url = ${startUrl}\nsso_region = eu-west-1\nsso_account_id = 123456789012\nsso_role_name = Researcher\nregion = eu-west-1\n`);
    // The token `aws sso login` left, expired yesterday.
    mkdirSync(path.join(home, '.aws', 'sso', 'cache'), { recursive: true });
    const cacheFile = `${createHash('sha1').update(startUrl).digest('hex')}.json`;
    writeFileSync(path.join(home, '.aws', 'sso', 'cache', cacheFile), JSON.stringify({ accessToken: 'expired', expiresAt: new Date(Date.now() - 86_400_000).toISOString(), region: 'eu-west-1', startUrl }));
    const root = makeProject({ 'project.env': 'PROJECT_NAME=demo\nAWS_REGION=eu-west-1\nEC2_SSH_CIDRS=203.0.113.7/32\n' });

    vi.stubEnv('AWS_PROFILE', 'lab');
    const expired = new Ec2Provider(loadConfig(root, {}), { HOME: home, AWS_PROFILE: 'lab' }, FAST);
    await expect(expired.up({ count: 1, computeType: 'cpu' }, () => undefined)).rejects.toMatchObject({
      message: expect.stringMatching(/^cannot use AWS: The SSO session associated with this profile has expired/),
      hint: expect.stringContaining('aws sso login'),
    });

    vi.stubEnv('AWS_PROFILE', 'nosuch');
    const missing = new Ec2Provider(loadConfig(root, {}), { HOME: home, AWS_PROFILE: 'nosuch' }, FAST);
    await expect(missing.up({ count: 1, computeType: 'cpu' }, () => undefined)).rejects.toThrow(/^cannot use AWS: Could not resolve credentials using profile: \[nosuch\]/);
  });

  it('no region anywhere: one message that says to set AWS_REGION', async () => {
    const home = tempDir('pcc-nohome-');
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_DEFAULT_REGION', undefined);
    vi.stubEnv('AWS_PROFILE', undefined);
    vi.stubEnv('HOME', home);
    vi.stubEnv('AWS_CONFIG_FILE', path.join(home, 'config'));
    const root = makeProject({ 'project.env': 'PROJECT_NAME=demo\nEC2_SSH_CIDRS=203.0.113.7/32\n', '.private': `AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=${SECRET}\n` });
    const provider = new Ec2Provider(loadConfig(root, {}), { HOME: home }, FAST);
    await expect(provider.list()).rejects.toMatchObject({ message: 'cannot use AWS: no AWS region is set', hint: expect.stringContaining('AWS_REGION') });
  });

  it('credentials AWS rejects: one message that says to check them', async () => {
    const { fake, upRequest } = world();
    fake.failNext(DescribeInstanceTypeOfferingsCommand, awsError('AuthFailure', 'AWS was not able to validate the provided access credentials'));
    await expect(upRequest()).rejects.toMatchObject({
      message: 'cannot check that c7i.2xlarge is offered in eu-west-1: AWS rejected the credentials (AuthFailure: AWS was not able to validate the provided access credentials)',
      exitCode: 2,
    });
  });

  it('the secret access key never reaches events, logs, provider output, state, ssh config or error messages', async () => {
    const { fake, upRequest, engine, events, lines, config, home } = world();
    const errors: string[] = [];
    await upRequest({ spot: true });
    await reconcile(engine);
    const [id] = [...fake.instances.keys()];
    await save(engine, id ?? '', { image: true });
    fake.failNext(RunInstancesCommand, awsError('SignatureDoesNotMatch', `The request signature we calculated does not match; key ${SECRET}`));
    await upRequest().catch((error: Error & { hint?: string }) => errors.push(`${error.message} ${error.hint}`));
    await destroy(engine, 'ec2');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('AWS rejected the credentials (SignatureDoesNotMatch');
    expect(errors[0]).toContain('[secret]');

    const files = (dir: string): string[] =>
      existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name)) : [];
    const written = [...files(config.stateDir), ...files(config.privateDir), ...files(path.join(home, '.ssh'))].map((file) => readFileSync(file, 'utf8'));
    const everything = [JSON.stringify(events), lines.join('\n'), errors.join('\n'), JSON.stringify(config), ...written].join('\n');
    expect(everything.length).toBeGreaterThan(1000);
    expect(everything).not.toContain(SECRET);
  });
});
