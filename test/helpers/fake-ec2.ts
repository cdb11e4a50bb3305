import {
  AuthorizeSecurityGroupIngressCommand,
  CancelSpotInstanceRequestsCommand,
  CreateImageCommand,
  CreateSecurityGroupCommand,
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeInstanceStatusCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeSpotInstanceRequestsCommand,
  DescribeVolumesCommand,
  DescribeVolumesModificationsCommand,
  EC2Client,
  EC2ServiceException,
  ImportKeyPairCommand,
  ModifyVolumeCommand,
  RevokeSecurityGroupIngressCommand,
  GetConsoleOutputCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Filter,
  type Image,
  type Instance,
  type IpPermission,
  type KeyPairInfo,
  type RunInstancesCommandInput,
  type SecurityGroup,
  type Snapshot,
  type SpotInstanceRequest,
  type Tag,
  type TagSpecification,
  type Volume,
  type VolumeModification,
} from '@aws-sdk/client-ec2';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

/** DeleteSnapshot calls that still find a snapshot in use right after its image was deregistered. */
const SNAPSHOT_RELEASE_CALLS = 2;

/** An error as the EC2 API returns it (the SDK's exception class, with AWS's code as its name). */
export function awsError(name: string, message = name): EC2ServiceException {
  return new EC2ServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

/** The base images AWS publishes, as DescribeImages returns them. */
export const CATALOG: Image[] = [
  baseImage('ami-0a1b2c3d4e5f60001', 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250101', '099720109477', '2025-01-01T00:00:00.000Z'),
  baseImage('ami-0a1b2c3d4e5f60002', 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20260101', '099720109477', '2026-01-01T00:00:00.000Z'),
  baseImage('ami-0a1b2c3d4e5f60003', 'Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 24.04) 20260101', 'amazon', '2026-01-01T00:00:00.000Z', 75),
];

function baseImage(ImageId: string, Name: string, OwnerId: string, CreationDate: string, size = 8): Image {
  return {
    ImageId, Name, OwnerId, CreationDate, State: 'available', Architecture: 'x86_64', RootDeviceName: '/dev/sda1',
    BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: size, SnapshotId: `snap-of-${ImageId}` } }],
  };
}

type Handler = (input: never) => unknown;

/**
 * A small in-memory EC2 behind aws-sdk-client-mock, so tests drive the real client through whole
 * flows: instances move pending → running, stopping → stopped, shutting-down → terminated on the
 * next Describe; terminated instances take their disks along; images become available; deleting
 * a security group an instance still uses fails with DependencyViolation, as AWS does.
 */
export class FakeEc2 {
  readonly client: EC2Client;
  readonly mock: AwsClientStub<EC2Client>;
  readonly instances = new Map<string, Instance>();
  readonly images = new Map<string, Image>();
  readonly volumes = new Map<string, Volume>();
  readonly snapshots = new Map<string, Snapshot>();
  /** Every size change asked of a volume, oldest first. */
  readonly modifications = new Map<string, VolumeModification[]>();
  /**
   * Runs when a volume's new size takes effect (its modification reaches optimizing, as AWS
   * documents): an integration test grows the disk a real machine sees.
   */
  onResize: ((volumeId: string, fromGb: number, toGb: number) => Promise<void>) | undefined;
  /** Volumes whose next modification fails (a transient AWS fault). */
  readonly failModification = new Set<string>();
  readonly groups = new Map<string, SecurityGroup>();
  readonly keyPairs = new Map<string, KeyPairInfo>();
  readonly spotRequests = new Map<string, SpotInstanceRequest>();
  /** Instance types the region offers. */
  offered = new Set(['c7i.2xlarge', 'g5.xlarge', 'm7i.large']);
  /** The public address the next instance that starts gets. */
  addresses: string[] = [];
  /** Errors the next calls of a command fail with, in order. */
  readonly failures = new Map<string, unknown[]>();
  /** Instances whose start ends in termination, with this reason. */
  readonly failToRun = new Map<string, string>();
  /**
   * AWS's eventual consistency: how many calls that use a security group or key pair just made still
   * find it missing (InvalidGroup.NotFound, InvalidKeyPair.NotFound), as AWS's guide describes.
   */
  consistencyCalls = 2;
  readonly #young = new Map<string, number>();
  /** Instances that stay pending (AWS slow to find capacity): a wait for them runs out of time. */
  readonly holdPending = new Set<string>();
  /** The default subnet gives instances a public address unasked (AWS's default; some accounts turn it off). */
  defaultSubnetPublic = true;
  /** No public address can be had at all (say, the account blocks them): a request for one is not met. */
  publicAddressesBlocked = false;
  readonly #wantsPublic = new Set<string>();
  /** Instances that stay pending for this many more looks, then run. */
  readonly slowStart = new Map<string, number>();
  #counter = 0;
  readonly #tokens = new Map<string, string>();
  /** What each instance printed on its serial console (GetConsoleOutput). */
  readonly console = new Map<string, string>();
  readonly #shutdownBehavior = new Map<string, string>();

  constructor(client = new EC2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIAFAKEFAKEFAKE1234', secretAccessKey: 'fake' } })) {
    this.client = client;
    this.mock = mockClient(client);
    const on = (command: { name: string }, handler: Handler) =>
      (this.mock.on as unknown as (command: unknown) => { callsFake(fn: (input: never) => unknown): void })(command).callsFake(async (input: never) => {
        const queued = this.failures.get(command.name)?.shift();
        if (queued) throw queued;
        return handler(input);
      });
    on(DescribeInstanceTypeOfferingsCommand, (input: { Filters: Filter[] }) => ({
      InstanceTypeOfferings: (input.Filters[0]?.Values ?? []).filter((type) => this.offered.has(type)).map((InstanceType) => ({ InstanceType })),
    }));
    on(DescribeInstanceTypesCommand, (input: { InstanceTypes: string[] }) => ({
      InstanceTypes: input.InstanceTypes.map((InstanceType) => ({
        InstanceType,
        // Graviton types carry a g after their generation (m7g, c7g, t4g): arm64.
        ProcessorInfo: { SupportedArchitectures: /^[a-z]+\d+g[a-z]*\./.test(InstanceType) ? ['arm64'] : ['x86_64'] },
        ...(InstanceType.startsWith('g') ? { GpuInfo: { Gpus: [{ Name: 'A10G', Manufacturer: 'NVIDIA', Count: 1 }] } } : {}),
      })),
    }));
    on(DescribeImagesCommand, (input: { Owners?: string[]; Filters?: Filter[] }) => {
      this.#advance();
      const own = [...this.images.values()];
      const pool = input.Owners?.includes('self') ? own : [...CATALOG, ...own];
      return { Images: pool.filter((image) => (!input.Owners || input.Owners.includes(image.OwnerId ?? 'self')) && matches(image, input.Filters, imageFields)) };
    });
    on(DescribeKeyPairsCommand, (input: { Filters?: Filter[] }) => ({ KeyPairs: [...this.keyPairs.values()].filter((pair) => matches(pair, input.Filters, { 'key-name': (p) => p.KeyName })) }));
    on(ImportKeyPairCommand, (input: { KeyName: string; PublicKeyMaterial: Uint8Array; TagSpecifications: TagSpecification[] }) => {
      this.#young.set(`key:${input.KeyName}`, this.consistencyCalls);
      this.keyPairs.set(input.KeyName, { KeyName: input.KeyName, KeyPairId: this.#id('key'), PublicKey: new TextDecoder().decode(input.PublicKeyMaterial), Tags: tagsFor(input.TagSpecifications, 'key-pair') });
      return { KeyName: input.KeyName };
    });
    on(DeleteKeyPairCommand, (input: { KeyName: string }) => void this.keyPairs.delete(input.KeyName));
    on(DescribeSecurityGroupsCommand, (input: { Filters?: Filter[] }) => ({
      SecurityGroups: [...this.groups.values()].filter((group) => matches(group, input.Filters, { 'group-name': (g) => g.GroupName })).map((group) => structuredClone(group)),
    }));
    on(CreateSecurityGroupCommand, (input: { GroupName: string; Description: string; TagSpecifications: TagSpecification[] }) => {
      const GroupId = this.#id('sg');
      this.#young.set(`group:${GroupId}`, this.consistencyCalls);
      this.groups.set(GroupId, { GroupId, GroupName: input.GroupName, Description: input.Description, IpPermissions: [], Tags: tagsFor(input.TagSpecifications, 'security-group') });
      return { GroupId };
    });
    on(AuthorizeSecurityGroupIngressCommand, (input: { GroupId: string; IpPermissions: IpPermission[] }) => {
      this.#notYet(`group:${input.GroupId}`, 'InvalidGroup.NotFound', `The security group '${input.GroupId}' does not exist`);
      this.groups.get(input.GroupId)?.IpPermissions?.push(...input.IpPermissions);
      return { Return: true };
    });
    on(RevokeSecurityGroupIngressCommand, (input: { GroupId: string; IpPermissions: IpPermission[] }) => {
      const group = this.groups.get(input.GroupId);
      const gone = new Set(input.IpPermissions.map((permission) => JSON.stringify(permission)));
      if (group) group.IpPermissions = (group.IpPermissions ?? []).flatMap(splitPermission).filter((permission) => !gone.has(JSON.stringify(permission)));
      return { Return: true };
    });
    on(DeleteSecurityGroupCommand, (input: { GroupId: string }) => {
      this.#advance();
      const users = [...this.instances.values()].filter((instance) => instance.State?.Name !== 'terminated' && instance.SecurityGroups?.some((group) => group.GroupId === input.GroupId));
      if (users.length > 0) throw awsError('DependencyViolation', `resource ${input.GroupId} has a dependent object`);
      this.groups.delete(input.GroupId);
      return {};
    });
    on(RunInstancesCommand, (input: RunInstancesCommandInput) => {
      if (input.SecurityGroupIds && input.NetworkInterfaces) throw awsError('InvalidParameterCombination', 'Network interfaces and an instance-level security groups may not be specified on the same request');
      for (const group of [...(input.SecurityGroupIds ?? []), ...(input.NetworkInterfaces?.[0]?.Groups ?? [])]) {
        this.#notYet(`group:${group}`, 'InvalidGroup.NotFound', `The security group '${group}' does not exist in default VPC`);
      }
      if (input.KeyName) this.#notYet(`key:${input.KeyName}`, 'InvalidKeyPair.NotFound', `The key pair '${input.KeyName}' does not exist`);
      return this.#run(input);
    });
    on(DescribeInstancesCommand, (input: { InstanceIds?: string[]; Filters?: Filter[] }) => {
      this.#advance();
      const found = [...this.instances.values()].filter(
        (instance) => (!input.InstanceIds || input.InstanceIds.includes(instance.InstanceId ?? '')) && matches(instance, input.Filters, instanceFields),
      );
      return { Reservations: found.length > 0 ? [{ Instances: found.map((instance) => structuredClone(instance)) }] : [] };
    });
    on(DescribeInstanceStatusCommand, (input: { InstanceIds: string[] }) => ({
      InstanceStatuses: input.InstanceIds.filter((id) => this.instances.get(id)?.State?.Name === 'running').map((InstanceId) => ({
        InstanceId, InstanceStatus: { Status: 'ok' }, SystemStatus: { Status: 'ok' },
      })),
    }));
    // AWS refuses to stop an instance that is still pending.
    on(GetConsoleOutputCommand, (input: { InstanceId: string }) => {
      if (!this.instances.has(input.InstanceId)) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${input.InstanceId}' does not exist`);
      return { InstanceId: input.InstanceId, Output: Buffer.from(this.console.get(input.InstanceId) ?? '').toString('base64') };
    });
    on(StopInstancesCommand, (input: { InstanceIds: string[] }) => {
      const pending = input.InstanceIds.find((id) => this.instances.get(id)?.State?.Name === 'pending');
      if (pending) throw awsError('IncorrectInstanceState', `The instance '${pending}' is not in a state from which it can be stopped.`);
      return this.#transition(input.InstanceIds, 'stopping');
    });
    // Only EC2 restarts a spot instance that EC2 stopped on an interruption.
    on(StartInstancesCommand, (input: { InstanceIds: string[] }) => {
      const interrupted = input.InstanceIds.find((id) => this.#interruptedRequest(id));
      if (interrupted) throw awsError('IncorrectSpotRequestState', `The spot request of instance ${interrupted} is not in a state that allows it to be started`);
      return this.#transition(input.InstanceIds, 'pending');
    });
    // A pending instance being terminated can still read as pending at the next look.
    on(TerminateInstancesCommand, (input: { InstanceIds: string[] }) => {
      for (const id of input.InstanceIds) if (this.instances.get(id)?.State?.Name === 'pending') this.#terminatingWhilePending.set(id, 1);
      return this.#transition(input.InstanceIds.filter((id) => !this.#terminatingWhilePending.has(id)), 'shutting-down');
    });
    on(CancelSpotInstanceRequestsCommand, (input: { SpotInstanceRequestIds: string[] }) => {
      for (const id of input.SpotInstanceRequestIds) {
        const request = this.spotRequests.get(id);
        if (request) request.State = 'cancelled';
      }
      return { CancelledSpotInstanceRequests: input.SpotInstanceRequestIds.map((SpotInstanceRequestId) => ({ SpotInstanceRequestId, State: 'cancelled' })) };
    });
    on(CreateImageCommand, (input: { InstanceId: string; Name: string; TagSpecifications: TagSpecification[] }) => {
      const instance = this.instances.get(input.InstanceId);
      if (!instance) throw awsError('InvalidInstanceID.NotFound');
      const ImageId = this.#id('ami');
      const mappings = (instance.BlockDeviceMappings ?? []).map((mapping) => {
        const SnapshotId = this.#id('snap');
        const volume = this.volumes.get(mapping.Ebs?.VolumeId ?? '');
        this.snapshots.set(SnapshotId, { SnapshotId, VolumeSize: volume?.Size, State: 'completed', Tags: tagsFor(input.TagSpecifications, 'snapshot') });
        return { DeviceName: mapping.DeviceName, Ebs: { SnapshotId, VolumeSize: volume?.Size } };
      });
      this.images.set(ImageId, {
        ImageId, Name: input.Name, OwnerId: 'self', State: 'pending', CreationDate: new Date().toISOString(), Architecture: 'x86_64',
        RootDeviceName: '/dev/sda1', BlockDeviceMappings: mappings, Tags: tagsFor(input.TagSpecifications, 'image'),
      });
      return { ImageId };
    });
    // As AWS documents: a snapshot stays in use by its image until deregistration has finished (a few
    // calls here), and DeleteAssociatedSnapshots deletes the image's snapshots with it.
    on(DeregisterImageCommand, (input: { ImageId: string; DeleteAssociatedSnapshots?: boolean }) => {
      const image = this.images.get(input.ImageId);
      if (!image) throw awsError('InvalidAMIID.NotFound', `The image id '[${input.ImageId}]' does not exist`);
      this.images.delete(input.ImageId);
      for (const mapping of image.BlockDeviceMappings ?? []) {
        const snapshot = mapping.Ebs?.SnapshotId ?? '';
        if (input.DeleteAssociatedSnapshots) this.snapshots.delete(snapshot);
        else this.#releasing.set(snapshot, SNAPSHOT_RELEASE_CALLS);
      }
      return {};
    });
    on(DeleteSnapshotCommand, (input: { SnapshotId: string }) => {
      const registered = [...this.images.values()].some((image) => image.BlockDeviceMappings?.some((mapping) => mapping.Ebs?.SnapshotId === input.SnapshotId));
      const releasing = this.#releasing.get(input.SnapshotId) ?? 0;
      if (registered || releasing > 0) {
        this.#releasing.set(input.SnapshotId, releasing - 1);
        throw awsError('InvalidSnapshot.InUse', `The snapshot ${input.SnapshotId} is currently in use by an AMI`);
      }
      this.snapshots.delete(input.SnapshotId);
      return {};
    });
    on(DescribeVolumesCommand, (input: { VolumeIds?: string[]; Filters?: Filter[] }) => {
      this.#advance();
      if (input.VolumeIds?.some((id) => !this.volumes.has(id))) throw awsError('InvalidVolume.NotFound');
      return { Volumes: [...this.volumes.values()].filter((volume) => (!input.VolumeIds || input.VolumeIds.includes(volume.VolumeId ?? '')) && matches(volume, input.Filters, {})) };
    });
    on(ModifyVolumeCommand, (input: { VolumeId: string; Size?: number }) => {
      const volume = this.volumes.get(input.VolumeId);
      if (!volume) throw awsError('InvalidVolume.NotFound', `The volume '${input.VolumeId}' does not exist.`);
      const last = this.modifications.get(input.VolumeId)?.at(-1);
      if (last?.ModificationState === 'modifying' || last?.ModificationState === 'optimizing') {
        throw awsError('IncorrectModificationState', `Cannot modify volume ${input.VolumeId}: a modification is still in progress.`);
      }
      // AWS: after a modification, wait at least six hours before the next one of the same volume.
      if (last && last.ModificationState !== 'failed') {
        throw awsError('VolumeModificationRateExceeded', "You've reached the maximum modification rate per volume limit. Wait at least 6 hours between modifications per EBS volume.");
      }
      if ((input.Size ?? 0) < (volume.Size ?? 0)) throw awsError('InvalidParameterValue', `New size cannot be smaller than existing size (${volume.Size} GiB).`);
      const modification: VolumeModification = {
        VolumeId: input.VolumeId, ModificationState: 'modifying', TargetSize: input.Size, OriginalSize: volume.Size, Progress: 0, StartTime: new Date(Date.now() + this.#counter++),
      };
      this.modifications.set(input.VolumeId, [...(this.modifications.get(input.VolumeId) ?? []), modification]);
      return { VolumeModification: structuredClone(modification) };
    });
    // A modification moves on at each look: modifying → optimizing (the size takes effect) → completed.
    on(DescribeVolumesModificationsCommand, async (input: { VolumeIds?: string[] }) => {
      const asked = [...this.modifications.entries()].filter(([id]) => !input.VolumeIds || input.VolumeIds.includes(id));
      for (const [id, list] of asked) {
        const modification = list.at(-1);
        const volume = this.volumes.get(id);
        if (!modification || !volume) continue;
        if (modification.ModificationState === 'modifying' && this.failModification.delete(id)) {
          Object.assign(modification, { ModificationState: 'failed', StatusMessage: 'An internal error has occurred.' });
        } else if (modification.ModificationState === 'modifying') {
          await this.onResize?.(id, volume.Size ?? 0, modification.TargetSize ?? 0);
          volume.Size = modification.TargetSize;
          Object.assign(modification, { ModificationState: 'optimizing', Progress: 50 });
        } else if (modification.ModificationState === 'optimizing') {
          Object.assign(modification, { ModificationState: 'completed', Progress: 100 });
        }
      }
      return { VolumesModifications: asked.flatMap(([, list]) => structuredClone(list)) };
    });
    on(DescribeSnapshotsCommand, (input: { Filters?: Filter[] }) => ({ Snapshots: [...this.snapshots.values()].filter((snapshot) => matches(snapshot, input.Filters, { 'snapshot-id': (s) => s.SnapshotId })) }));
    on(DescribeSpotInstanceRequestsCommand, (input: { Filters?: Filter[] }) => ({
      SpotInstanceRequests: [...this.spotRequests.values()].filter((request) => matches(request, input.Filters, { state: (r) => r.State })),
    }));
  }

  /**
   * Whether a security group lets a packet in, as AWS evaluates its rules: a CIDR rule matches the
   * source address; a rule naming a group matches members of that group by their private (VPC)
   * addresses only, never by their public ones (VPC guide, security group referencing).
   */
  admits(groupId: string, source: string, protocol: 'tcp' | 'udp', port: number): boolean {
    const members = (group: string) =>
      [...this.instances.values()].filter((instance) => instance.State?.Name !== 'terminated' && instance.SecurityGroups?.some((g) => g.GroupId === group)).map((instance) => instance.PrivateIpAddress);
    return (this.groups.get(groupId)?.IpPermissions ?? []).some((permission) => {
      const protocolMatches = permission.IpProtocol === '-1' || (permission.IpProtocol === protocol && port >= (permission.FromPort ?? 0) && port <= (permission.ToPort ?? 65535));
      if (!protocolMatches) return false;
      return (permission.IpRanges ?? []).some((range) => inCidr(source, range.CidrIp ?? '')) || (permission.UserIdGroupPairs ?? []).some((pair) => members(pair.GroupId ?? '').includes(source));
    });
  }

  /** The next `times` calls of a command fail with `error`. */
  failNext(command: { name: string }, error: unknown, times = 1): void {
    this.failures.set(command.name, [...(this.failures.get(command.name) ?? []), ...Array.from({ length: times }, () => error)]);
  }

  /** The inputs of every call of a command so far. */
  inputs<C extends new (...args: never[]) => unknown>(command: C): NonNullable<ConstructorParameters<C>[0]>[] {
    type Input = NonNullable<ConstructorParameters<C>[0]>;
    return (this.mock.commandCalls as unknown as (command: unknown) => { args: [{ input: Input }] }[])(command).map((call) => call.args[0].input);
  }

  /** Everything still tagged for the project, as the leak check sees it. */
  tagged(project: string): string[] {
    const mine = (resource: { Tags?: Tag[] }) => resource.Tags?.some((tag) => tag.Key === 'pcc:project' && tag.Value === project);
    return [
      ...[...this.instances.values()].filter((instance) => instance.State?.Name !== 'terminated' && mine(instance)).map((i) => i.InstanceId),
      ...[...this.volumes.values()].filter(mine).map((v) => v.VolumeId),
      ...[...this.groups.values()].filter(mine).map((g) => g.GroupId),
      ...[...this.keyPairs.values()].filter(mine).map((k) => k.KeyName),
      ...[...this.images.values()].filter(mine).map((i) => i.ImageId),
      ...[...this.snapshots.values()].filter(mine).map((s) => s.SnapshotId),
      ...[...this.spotRequests.values()].filter((request) => request.State !== 'cancelled' && mine(request)).map((r) => r.SpotInstanceRequestId),
    ].filter((id): id is string => id !== undefined);
  }

  #id(prefix: string): string {
    this.#counter++;
    return `${prefix}-0${this.#counter.toString(16).padStart(16, '0')}`;
  }

  #run(input: RunInstancesCommandInput): { Instances: Instance[] } {
    // An idempotent retry (same ClientToken) gets the instance it already launched.
    const known = input.ClientToken ? this.#tokens.get(input.ClientToken) : undefined;
    if (known) return { Instances: [structuredClone(this.instances.get(known) as Instance)] };
    const type = input.InstanceType ?? '';
    if (!this.offered.has(type)) throw awsError('Unsupported', `The requested configuration is currently not supported (${type}).`);
    const InstanceId = this.#id('i');
    if (input.ClientToken) this.#tokens.set(input.ClientToken, InstanceId);
    const VolumeId = this.#id('vol');
    const size = input.BlockDeviceMappings?.[0]?.Ebs?.VolumeSize ?? 8;
    this.volumes.set(VolumeId, { VolumeId, Size: size, State: 'in-use', Attachments: [{ InstanceId, VolumeId, State: 'attached' }], Tags: tagsFor(input.TagSpecifications, 'volume') });
    const spot = input.InstanceMarketOptions?.MarketType === 'spot';
    const SpotInstanceRequestId = spot ? this.#id('sir') : undefined;
    if (SpotInstanceRequestId) {
      this.spotRequests.set(SpotInstanceRequestId, { SpotInstanceRequestId, InstanceId, State: 'active', Type: 'persistent', Tags: tagsFor(input.TagSpecifications, 'spot-instances-request') });
    }
    const instance: Instance = {
      InstanceId, ImageId: input.ImageId, InstanceType: type as Instance['InstanceType'], KeyName: input.KeyName, State: { Name: 'pending', Code: 0 },
      // Its address in the default VPC (172.31.0.0/16), kept while the instance lives.
      PrivateIpAddress: `172.31.${(this.#counter >> 8) & 255}.${this.#counter & 255}`,
      SecurityGroups: (input.SecurityGroupIds ?? input.NetworkInterfaces?.[0]?.Groups ?? []).map((GroupId) => ({ GroupId })),
      RootDeviceName: input.BlockDeviceMappings?.[0]?.DeviceName ?? '/dev/sda1',
      BlockDeviceMappings: [{ DeviceName: input.BlockDeviceMappings?.[0]?.DeviceName ?? '/dev/sda1', Ebs: { VolumeId, DeleteOnTermination: true, Status: 'attached' } }],
      Tags: tagsFor(input.TagSpecifications, 'instance'),
      ...(spot ? { InstanceLifecycle: 'spot', SpotInstanceRequestId } : {}),
    };
    if (input.NetworkInterfaces?.[0]?.AssociatePublicIpAddress ?? this.defaultSubnetPublic) this.#wantsPublic.add(InstanceId);
    // AWS's default for an EBS-backed instance is stop; a launch may ask for terminate.
    this.#shutdownBehavior.set(InstanceId, input.InstanceInitiatedShutdownBehavior ?? 'stop');
    this.instances.set(InstanceId, instance);
    return { Instances: [structuredClone(instance)] };
  }

  #transition(ids: string[], to: 'stopping' | 'pending' | 'shutting-down'): object {
    for (const id of ids) {
      const instance = this.instances.get(id);
      if (!instance) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      instance.State = { Name: to };
      if (to !== 'pending') {
        delete instance.PublicIpAddress;
        instance.PublicDnsName = '';
      }
    }
    return {};
  }

  /** What AWS does between two looks: pending instances run, stopping ones stop, and so on. */
  /** Snapshots of a just deregistered image: how many more DeleteSnapshot calls find them still in use. */
  readonly #releasing = new Map<string, number>();

  /** Instances terminated while pending, with how many more looks still find them pending. */
  readonly #terminatingWhilePending = new Map<string, number>();

  /**
   * The instance powers itself off (`poweroff` inside it) after printing these console lines: it
   * stops or terminates as its launch asked (InstanceInitiatedShutdownBehavior).
   */
  shutdownFromInside(instanceId: string, consoleLines: string): void {
    this.console.set(instanceId, `${this.console.get(instanceId) ?? ''}${consoleLines}`);
    this.#transition([instanceId], this.#shutdownBehavior.get(instanceId) === 'terminate' ? 'shutting-down' : 'stopping');
    const instance = this.instances.get(instanceId) as Instance;
    instance.StateReason = { Code: 'Client.InstanceInitiatedShutdown', Message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown' };
  }

  /** EC2 interrupts a spot instance whose request stops on interruption: it is stopped, and its request says why. */
  interrupt(instanceId: string, code = 'instance-stopped-no-capacity'): void {
    const instance = this.instances.get(instanceId);
    if (!instance?.SpotInstanceRequestId) throw new Error(`${instanceId} is no spot instance`);
    instance.State = { Name: 'stopped', Code: 80 };
    instance.StateReason = { Code: 'Server.SpotInstanceShutdown', Message: 'Server.SpotInstanceShutdown: Spot instance was stopped due to an interruption.' };
    delete instance.PublicIpAddress;
    const request = this.spotRequests.get(instance.SpotInstanceRequestId);
    if (request) Object.assign(request, { State: 'disabled', Status: { Code: code, Message: 'Your Spot Instance was stopped because there is no Spot capacity available.' } });
  }

  #interruptedRequest(instanceId: string): boolean {
    const request = this.spotRequests.get(this.instances.get(instanceId)?.SpotInstanceRequestId ?? '');
    return request?.State === 'disabled' && (request.Status?.Code ?? '').startsWith('instance-stopped-') && request.Status?.Code !== 'instance-stopped-by-user';
  }

  /** A resource made moments ago is not yet known to this call: AWS answers NotFound a few times. */
  #notYet(key: string, code: string, message: string): void {
    const left = this.#young.get(key) ?? 0;
    if (left <= 0) return;
    this.#young.set(key, left - 1);
    throw awsError(code, message);
  }

  #advance(): void {
    for (const instance of this.instances.values()) {
      const id = instance.InstanceId ?? '';
      const looks = this.#terminatingWhilePending.get(id);
      if (looks !== undefined) {
        if (looks > 0) this.#terminatingWhilePending.set(id, looks - 1);
        else {
          this.#terminatingWhilePending.delete(id);
          instance.State = { Name: 'shutting-down', Code: 32 };
        }
        continue;
      }
      const state = instance.State?.Name;
      if (state === 'pending' && this.failToRun.has(id)) {
        instance.State = { Name: 'terminated' };
        instance.StateReason = { Code: 'Server.InsufficientInstanceCapacity', Message: this.failToRun.get(id) };
        this.#dropDisks(instance);
      } else if (state === 'pending' && (this.slowStart.get(id) ?? 0) > 0) {
        this.slowStart.set(id, (this.slowStart.get(id) ?? 0) - 1);
      } else if (state === 'pending' && !this.holdPending.has(id)) {
        instance.State = { Name: 'running', Code: 16 };
        // As EC2 does: the time of the last start, not of the first launch.
        instance.LaunchTime = new Date();
        const address = this.#wantsPublic.has(id) && !this.publicAddressesBlocked ? this.addresses.shift() : undefined;
        if (address) instance.PublicIpAddress = address;
      } else if (state === 'stopping') {
        instance.State = { Name: 'stopped', Code: 80 };
      } else if (state === 'shutting-down') {
        instance.State = { Name: 'terminated', Code: 48 };
        this.#dropDisks(instance);
      }
    }
    for (const image of this.images.values()) if (image.State === 'pending') image.State = 'available';
  }

  #dropDisks(instance: Instance): void {
    for (const mapping of instance.BlockDeviceMappings ?? []) if (mapping.Ebs?.DeleteOnTermination) this.volumes.delete(mapping.Ebs.VolumeId ?? '');
  }
}

function tagsFor(specs: TagSpecification[] | undefined, type: string): Tag[] {
  return specs?.find((spec) => spec.ResourceType === type)?.Tags ?? [];
}

const imageFields: Record<string, (image: Image) => string | undefined> = {
  name: (image) => image.Name,
  state: (image) => image.State,
  architecture: (image) => image.Architecture,
  'image-id': (image) => image.ImageId,
};

const instanceFields: Record<string, (instance: Instance) => string | undefined> = {
  'instance-state-name': (instance) => instance.State?.Name,
  'key-name': (instance) => instance.KeyName,
};

/** EC2's filter semantics: every filter must match; a filter matches when any value does (* is a wildcard). */
function matches<R extends { Tags?: Tag[] }>(resource: R, filters: Filter[] | undefined, fields: Record<string, (resource: R) => string | undefined>): boolean {
  return (filters ?? []).every((filter) => {
    const name = filter.Name ?? '';
    const value = name.startsWith('tag:') ? resource.Tags?.find((tag) => tag.Key === name.slice(4))?.Value : fields[name]?.(resource);
    if (!(name.startsWith('tag:') || name in fields)) throw new Error(`the fake EC2 does not know filter ${name}`);
    return (filter.Values ?? []).some((wanted) => value !== undefined && new RegExp(`^${wanted.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(value));
  });
}

/** One permission per source, as pcc authorizes and revokes them. */
function inCidr(address: string, cidr: string): boolean {
  const [base = '', prefixText = '32'] = cidr.split('/');
  const number = (ip: string) => ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(prefixText));
  return Math.floor(number(address) / size) === Math.floor(number(base) / size);
}

function splitPermission(permission: IpPermission): IpPermission[] {
  const base = { IpProtocol: permission.IpProtocol, ...(permission.IpProtocol === '-1' ? {} : { FromPort: permission.FromPort, ToPort: permission.ToPort }) };
  return [
    ...(permission.IpRanges ?? []).map((range) => ({ ...base, IpRanges: [{ CidrIp: range.CidrIp }] })),
    ...(permission.UserIdGroupPairs ?? []).map((pair) => ({ ...base, UserIdGroupPairs: [{ GroupId: pair.GroupId }] })),
  ];
}
