import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  CancelSpotInstanceRequestsCommand,
  DescribeInstancesCommand,
  DescribeSpotInstanceRequestsCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  GetConsoleOutputCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilImageAvailable,
  waitUntilInstanceRunning,
  waitUntilInstanceStatusOk,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
  waitUntilVolumeDeleted,
  type _InstanceType,
  type Image,
  type Instance,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import type { Config } from '../../core/config/load.js';
import { PccError } from '../../core/errors.js';
import { ensurePccKey } from '../../core/ssh-key.js';
import {
  parseSelfStop,
  ProviderError,
  type ComputeType,
  type Leftover,
  type Billing,
  type Machine,
  type MachineState,
  type Provider,
  type ProviderCapabilities,
  type ProviderOutput,
  type SavedImage,
  type SelfStop,
  type SshEndpoint,
  type UpRequest,
} from '../provider.js';
import { admittedCidrs, ensureAccess, NEW_ACCESS, releaseAccess, type Access } from './ec2-access.js';
import { Ec2Api, type Ec2ApiOptions } from './ec2-api.js';
import { fitRootVolumes, rootGbFor, systemGbOf } from './ec2-disks.js';
import { baseImage, createHostImage, deleteImage, launchImage, projectImages, savedImageOf, type LaunchImage } from './ec2-images.js';
import { diskGbByInstance, hostOf, LIVE_STATES, projectInstances } from './ec2-instances.js';
import { waitUntilNotPending } from './ec2-waiters.js';
import { findLeftovers } from './ec2-leaks.js';
import { TAG, tags, tagSpecs, tagValue } from './ec2-tags.js';
import { EC2_CAPABILITIES, ec2InUse, ec2RegionFile } from './ec2-usage.js';

const STATES: Record<string, MachineState> = { pending: 'creating', running: 'running', stopping: 'saved', stopped: 'saved' };

/** The state reason EC2 gives an instance it stopped to take back spot capacity. */
const SPOT_INTERRUPTION = 'Server.SpotInstanceShutdown';

/** Launching from a saved image keeps the host's SSH keys, so the key pcc pinned for it stays valid. */
const KEEP_HOST_KEYS = '#cloud-config\nssh_deletekeys: false\n';

/** What one launch needs. */
interface LaunchSpec {
  image: LaunchImage;
  /** The root disk: the system plus room for the btrfs volume behind /var/lib/docker. */
  rootGb: number;
  /** The system's part of it, tagged so a later, larger VARLIBDOCKER_GB can grow the disk. */
  systemGb: number | undefined;
  instanceType: string;
  computeType: ComputeType;
  spot: boolean;
  access: Access;
  /** The host an instance launched from a saved image continues. */
  host?: string;
}

/**
 * Remote cpu and gpu machines on AWS EC2. A host is named after the instance it was launched as
 * (`i-0abc…`); everything pcc creates is tagged with the project, so reconcile adopts instances pcc
 * did not record and the leak check finds whatever is left. Save stops an instance; save --image
 * keeps it as an image and terminates it, and resume launches it again from that image.
 *
 * A project that never used EC2 makes no AWS call (see ec2InUse).
 */
export class Ec2Provider implements Provider {
  readonly name = 'ec2' as const;
  readonly #config: Config;
  readonly #api: Ec2Api;
  readonly #regionFile: string;

  constructor(config: Config, env: NodeJS.ProcessEnv, options: Ec2ApiOptions = {}) {
    this.#config = config;
    this.#api = new Ec2Api(config, env, options);
    this.#regionFile = ec2RegionFile(config);
  }

  capabilities(): ProviderCapabilities {
    return EC2_CAPABILITIES;
  }

  async list(): Promise<Machine[]> {
    if (!ec2InUse(this.#config)) return [];
    const [{ instances, images }, diskGb] = await Promise.all([this.#holdings(), diskGbByInstance(this.#api, this.#config.project.id)]);
    const machines = [...instances.entries()].map(([host, instance]) => {
      const machine = this.#machineOf(host, instance);
      return { ...machine, billing: billingOf(instance, machine.state, diskGb.get(instance.InstanceId ?? '') ?? 0) };
    });
    for (const [host, image] of images) {
      if (instances.has(host)) continue;
      const instanceType = tagValue(image.Tags, TAG.instanceType) ?? '';
      const saved = savedImageOf(image);
      machines.push({
        name: host,
        provider: 'ec2',
        role: 'compute',
        computeType: computeTypeOf(image),
        state: 'saved',
        extras: { instanceType },
        billing: {
          instanceType,
          spot: tagValue(image.Tags, TAG.market) === 'spot',
          ...(saved.createdAt ? { savedAt: saved.createdAt } : {}),
          storage: [{ kind: 'snapshot', gb: saved.sizeGb ?? 0 }],
        },
      });
    }
    return machines;
  }

  async up(request: UpRequest, output: ProviderOutput): Promise<Machine[]> {
    if (request.role === 'init') throw new ProviderError('unsupported', 'the controller init runs locally (Vagrant), not on EC2');
    admittedCidrs(this.#config);
    const computeType = request.computeType;
    const instanceType = request.machineType ?? this.#config.aws.instanceTypes[computeType];
    await this.#checkRegion();
    this.#markInUse(await this.#api.region());
    const architecture = await this.#checkInstanceType(instanceType, computeType);
    const image = await baseImage(this.#api, this.#config, computeType, architecture);
    const access = await this.#access(output);
    const rootGb = rootGbFor(image.rootGb, this.#config.varLibDocker.gb);
    const spec: LaunchSpec = { image, rootGb, systemGb: image.rootGb, instanceType, computeType, spot: request.spot ?? false, access };
    const launched: Machine[] = [];
    for (let index = 0; index < request.count; index++) {
      let instance: Instance;
      try {
        instance = await this.#launch(spec, output);
      } catch (error) {
        throw partialLaunch(error, launched);
      }
      // Recorded at once: a later launch failing leaves this one tracked, never running unknown.
      const machine = this.#machineOf(hostOf(instance), instance);
      await request.onPlanned?.([machine]);
      launched.push(machine);
    }
    await this.#waitReady(launched.map((machine) => machine.extras.instanceId ?? ''), output);
    await this.#requirePublicAddresses(launched.map((machine) => machine.extras.instanceId ?? ''), output);
    return launched.map((machine) => ({ ...machine, state: 'running' }));
  }

  async start(names: string[], output: ProviderOutput): Promise<void> {
    const { instances, images } = await this.#holdings();
    const ready: string[] = [];
    const stopped: string[] = [];
    const fromImages: [string, Image][] = [];
    for (const name of names) {
      const instance = instances.get(name);
      const image = images.get(name);
      if (instance?.InstanceId) {
        if (instance.State?.Name === 'stopping') {
          output('waiting until it has stopped before starting it', name);
          await this.#api.wait(`stop of ${name}`, waitUntilInstanceStopped, { InstanceIds: [instance.InstanceId] }, 15 * 60);
        }
        if (instance.State?.Name === 'stopping' || instance.State?.Name === 'stopped') {
          await this.#refuseInterrupted(name, instance);
          stopped.push(instance.InstanceId);
        }
        ready.push(instance.InstanceId);
      } else if (image) {
        fromImages.push([name, image]);
      } else {
        throw new ProviderError('not-found', `${name}: EC2 has no instance or saved image of it`, 'pcc status shows what exists.');
      }
    }
    if (stopped.length > 0) {
      await this.#api.call(`start ${stopped.join(', ')}`, (client) => client.send(new StartInstancesCommand({ InstanceIds: stopped })));
      output(`starting ${stopped.join(', ')}`);
    }
    if (fromImages.length > 0) {
      const access = await this.#access(output);
      for (const [name, image] of fromImages) {
        if (image.State !== 'available') {
          output(`waiting until image ${image.ImageId} is available`, name);
          await this.#api.wait(`image ${image.ImageId} of ${name}`, waitUntilImageAvailable, { ImageIds: [image.ImageId ?? ''] }, 2 * 60 * 60);
        }
        const instanceType = tagValue(image.Tags, TAG.instanceType) ?? this.#config.aws.instanceTypes[computeTypeOf(image)];
        const launch = launchImage(image);
        const systemGb = systemGbOf(image);
        // The image's disk already holds the volume as it was saved; a VARLIBDOCKER_GB raised since adds room.
        const rootGb = Math.max(launch.rootGb, systemGb === undefined ? 0 : rootGbFor(systemGb, this.#config.varLibDocker.gb));
        const instance = await this.#launch(
          { image: launch, rootGb, systemGb, instanceType, computeType: computeTypeOf(image), spot: tagValue(image.Tags, TAG.market) === 'spot', access, host: name },
          output,
        );
        ready.push(instance.InstanceId ?? '');
      }
    }
    await this.#waitReady(ready, output);
    // The host lives in its instance again; keeping the image would bill it twice.
    for (const [, image] of fromImages) await deleteImage(this.#api, image, output);
  }

  /**
   * Only EC2 can start a spot instance that EC2 stopped on an interruption: it does so by itself, and
   * bills again, when capacity returns. Starting it would fail; this says why and what the user can do.
   */
  async #refuseInterrupted(name: string, instance: Instance): Promise<void> {
    const requestId = instance.SpotInstanceRequestId;
    if (!requestId) return;
    const { SpotInstanceRequests } = await this.#api.call(`look up the spot request of ${name}`, (client) =>
      client.send(new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [requestId] })),
    );
    const status = SpotInstanceRequests?.[0]?.Status;
    if (!status?.Code?.startsWith('instance-stopped-') || status.Code === 'instance-stopped-by-user') return;
    throw new ProviderError('unsupported', `${name} is a spot instance that EC2 stopped on an interruption (${status.Code}): only EC2 can start it again`, 
      `EC2 starts it by itself when spot capacity returns, and it bills from then on. For a machine now: pcc destroy ${name} --yes, then pcc up ec2 (without --spot for on-demand capacity).`);
  }

  async save(names: string[], output: ProviderOutput): Promise<void> {
    const { instances } = await this.#holdings();
    const chosen = this.#instancesOf(names, instances);
    // AWS refuses to stop an instance that is still pending: it is stopped once it runs.
    const pending = chosen.filter((instance) => instance.State?.Name === 'pending').map((instance) => instance.InstanceId ?? '');
    if (pending.length > 0) {
      output(`waiting until ${pending.join(', ')} runs before stopping it`);
      await this.#api.wait(`start of ${pending.join(', ')}`, waitUntilInstanceRunning, { InstanceIds: pending }, 15 * 60);
    }
    await this.#stop(chosen.filter((instance) => instance.State?.Name === 'running' || instance.State?.Name === 'pending'), output);
  }

  async saveImage(names: string[], output: ProviderOutput): Promise<void> {
    const { instances } = await this.#holdings();
    const chosen = names.map((name) => {
      const instance = instances.get(name);
      if (!instance) throw new ProviderError('not-found', `${name} has no instance to save as an image`, 'It may be saved as an image already: pcc images lists them.');
      return [name, instance] as const;
    });
    await this.#stop(chosen.map(([, instance]) => instance).filter((instance) => instance.State?.Name !== 'stopped'), output);
    const project = this.#config.project.id;
    await Promise.all(chosen.map(([name, instance]) => createHostImage(this.#api, project, name, instance, output)));
    await this.#terminate(chosen.map(([, instance]) => instance), output);
  }

  async fitDisks(names: string[], dockerGb: number, output: ProviderOutput): Promise<void> {
    await this.#checkRegion();
    // Only running instances: saved images are not asked for, as every setup of an EC2 host comes here.
    const running = await projectInstances(this.#api, this.#config.project.id, ['running']);
    await fitRootVolumes(this.#api, running.filter((instance) => names.includes(hostOf(instance))), dockerGb, output);
  }

  async destroy(names: string[], output: ProviderOutput): Promise<void> {
    const { instances, images } = await this.#holdings();
    await this.#terminate(this.#instancesOf(names, instances), output);
    for (const name of names) {
      const image = images.get(name);
      if (image) await deleteImage(this.#api, image, output);
    }
  }

  /** Read from the instance's console output, which EC2 keeps after a stop: the idle stop prints its reason there. */
  async selfStop(name: string): Promise<SelfStop | undefined> {
    const instance = (await this.#holdings()).instances.get(name);
    if (!instance?.InstanceId) return undefined;
    const { InstanceId } = instance;
    const console = await this.#api.call(`read the console of ${name}`, (client) => client.send(new GetConsoleOutputCommand({ InstanceId, Latest: true })));
    return parseSelfStop(Buffer.from(console.Output ?? '', 'base64').toString('utf8'));
  }

  async sshEndpoint(name: string): Promise<SshEndpoint> {
    const instance = (await this.#holdings()).instances.get(name);
    if (!instance) throw new ProviderError('not-found', `${name}: EC2 has no instance of it`, 'pcc status shows what exists; pcc resume brings back a saved host.');
    const host = instance.PublicIpAddress || instance.PublicDnsName;
    if (!host) {
      throw new ProviderError('command-failed', `${name} (${instance.State?.Name}) has no public address`,
        'pcc reaches EC2 hosts at their public address: resume it, or use a region whose default VPC assigns public addresses.');
    }
    const key = ensurePccKey(this.#config.privateDir, `pcc-${this.#config.project.name}`);
    return { host, port: 22, user: this.#config.aws.sshUser, identityFile: key.privateKeyFile };
  }

  async images(): Promise<SavedImage[]> {
    if (!ec2InUse(this.#config)) return [];
    await this.#checkRegion();
    return (await projectImages(this.#api, this.#config.project.id)).map(savedImageOf);
  }

  async removeImage(id: string, output: ProviderOutput): Promise<void> {
    const image = (await projectImages(this.#api, this.#config.project.id)).find((candidate) => candidate.ImageId === id);
    if (!image) throw new ProviderError('not-found', `${id} is not an image pcc saved for this project`, 'pcc images lists them.');
    await deleteImage(this.#api, image, output);
  }

  async tidyUp(output: ProviderOutput): Promise<Leftover[]> {
    if (!ec2InUse(this.#config)) return [];
    await this.#checkRegion();
    const project = this.#config.project.id;
    await releaseAccess(this.#api, project, output);
    const left = await findLeftovers(this.#api, project);
    // Nothing of the project is left in AWS: the region is free to change.
    if (left.length === 0) rmSync(this.#regionFile, { force: true });
    return left;
  }

  #markInUse(region: string): void {
    mkdirSync(path.dirname(this.#regionFile), { recursive: true });
    writeFileSync(this.#regionFile, `${region}\n`);
  }

  /** Resources pcc made live in one region; switching regions would hide them, so it is refused. */
  async #checkRegion(): Promise<void> {
    const region = await this.#api.region();
    const pinned = existsSync(this.#regionFile) ? readFileSync(this.#regionFile, 'utf8').trim() : undefined;
    if (pinned && pinned !== region) {
      throw new ProviderError('misconfigured', `this project's EC2 resources are in ${pinned}, but the AWS region is now ${region}`,
        `Set AWS_REGION=${pinned} in config/project.env, or destroy them there first (pcc destroy ec2 --yes).`);
    }
  }

  /** The project's live instances and saved images, each by the host it is. */
  async #holdings(): Promise<{ instances: Map<string, Instance>; images: Map<string, Image> }> {
    await this.#checkRegion();
    const project = this.#config.project.id;
    const [instances, images] = await Promise.all([projectInstances(this.#api, project, LIVE_STATES), projectImages(this.#api, project)]);
    return {
      instances: new Map(instances.map((instance) => [hostOf(instance), instance])),
      images: new Map(images.flatMap((image) => {
        const host = tagValue(image.Tags, TAG.host);
        return host ? [[host, image] as const] : [];
      })),
    };
  }

  #instancesOf(names: string[], instances: Map<string, Instance>): Instance[] {
    return names.flatMap((name) => {
      const instance = instances.get(name);
      return instance ? [instance] : [];
    });
  }

  #machineOf(host: string, instance: Instance): Machine {
    return {
      name: host,
      provider: 'ec2',
      role: 'compute',
      computeType: tagValue(instance.Tags, TAG.type) === 'gpu' ? 'gpu' : 'cpu',
      state: instance.StateReason?.Code === SPOT_INTERRUPTION && instance.State?.Name === 'stopped' ? 'interrupted' : STATES[instance.State?.Name ?? ''] ?? 'unknown',
      extras: { instanceType: instance.InstanceType ?? '', instanceId: instance.InstanceId ?? '' },
      ...(instance.PrivateIpAddress ? { privateAddress: instance.PrivateIpAddress } : {}),
    };
  }

  async #access(output: ProviderOutput): Promise<Access> {
    const key = ensurePccKey(this.#config.privateDir, `pcc-${this.#config.project.name}`);
    return ensureAccess(this.#api, this.#config, key.publicKey, output);
  }

  /** The instance type must be offered in the region (and have a GPU for gpu); returns its architecture. */
  async #checkInstanceType(instanceType: string, computeType: ComputeType): Promise<'x86_64' | 'arm64'> {
    const region = await this.#api.region();
    const key = computeType === 'gpu' ? 'EC2_INSTANCE_TYPE_GPU' : 'EC2_INSTANCE_TYPE_CPU';
    const offered = await this.#api.call(`check that ${instanceType} is offered in ${region}`, (client) =>
      client.send(new DescribeInstanceTypeOfferingsCommand({ LocationType: 'region', Filters: [{ Name: 'instance-type', Values: [instanceType] }] })),
    );
    if ((offered.InstanceTypeOfferings ?? []).length === 0) {
      throw new ProviderError('misconfigured', `instance type ${instanceType} is not offered in ${region}`,
        `Choose one that is (--instance-type, or ${key} in config/project.env), or another region (AWS_REGION).`);
    }
    const described = await this.#api.call(`look up instance type ${instanceType}`, (client) =>
      client.send(new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as _InstanceType] })),
    );
    const info = described.InstanceTypes?.[0];
    if (computeType === 'gpu' && (info?.GpuInfo?.Gpus ?? []).length === 0) {
      throw new ProviderError('misconfigured', `instance type ${instanceType} has no GPU`, `Use a GPU instance type for --type gpu (g5.xlarge, g6.xlarge ...), or set ${key}.`);
    }
    const architectures = info?.ProcessorInfo?.SupportedArchitectures ?? [];
    if (architectures.includes('x86_64')) return 'x86_64';
    if (architectures.includes('arm64')) return 'arm64';
    throw new ProviderError('misconfigured', `instance type ${instanceType} runs neither x86_64 nor arm64 images`, 'Choose another instance type.');
  }

  async #launch(spec: LaunchSpec, output: ProviderOutput): Promise<Instance> {
    const project = this.#config.project.id;
    const resourceTags = tags({
      [TAG.project]: project,
      [TAG.name]: `pcc-${project}-${spec.computeType}`,
      [TAG.type]: spec.computeType,
      [TAG.host]: spec.host,
      [TAG.systemGb]: spec.systemGb === undefined ? undefined : String(spec.systemGb),
    });
    const input: RunInstancesCommandInput = {
      ImageId: spec.image.id,
      InstanceType: spec.instanceType as _InstanceType,
      MinCount: 1,
      MaxCount: 1,
      KeyName: spec.access.keyName,
      // A public address asked for, not left to the subnet's default: pcc reaches hosts by it.
      NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: true, Groups: [spec.access.groupId], DeleteOnTermination: true }],
      // The same token on every retry: AWS launches at most one instance for it.
      ClientToken: randomUUID(),
      BlockDeviceMappings: [{ DeviceName: spec.image.rootDevice, Ebs: { VolumeSize: spec.rootGb, VolumeType: 'gp3', DeleteOnTermination: true } }],
      MetadataOptions: { HttpTokens: 'required' },
      // A host that powers itself off (idle stop) is stopped, never terminated: its disk and setup stay.
      InstanceInitiatedShutdownBehavior: 'stop',
      TagSpecifications: tagSpecs(spec.spot ? ['instance', 'volume', 'spot-instances-request'] : ['instance', 'volume'], resourceTags),
      ...(spec.spot ? { InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'persistent', InstanceInterruptionBehavior: 'stop' } } } : {}),
      ...(spec.host ? { UserData: Buffer.from(KEEP_HOST_KEYS).toString('base64') } : {}),
    };
    // Retried with the same ClientToken, so a retry is the same launch, never a second instance.
    const result = await this.#api.call(`launch a ${spec.instanceType}`, (client) => client.send(new RunInstancesCommand(input)), { instanceType: spec.instanceType, ...NEW_ACCESS });
    const instance = result.Instances?.[0];
    if (!instance?.InstanceId) throw new PccError(`launching a ${spec.instanceType} returned no instance`);
    const launched = { ...instance, Tags: instance.Tags ?? resourceTags };
    output(`launched ${instance.InstanceId}: ${spec.instanceType}${spec.spot ? ' (spot)' : ''} from ${spec.image.id}`, hostOf(launched));
    return launched;
  }

  /** Waits until the instances run and pass their status checks (sshd answers by then). */
  async #waitReady(ids: string[], output: ProviderOutput): Promise<void> {
    if (ids.length === 0) return;
    output(`waiting for ${ids.join(', ')} to run and pass their status checks`);
    try {
      await this.#api.wait(`start of ${ids.join(', ')}`, waitUntilInstanceRunning, { InstanceIds: ids }, 15 * 60);
    } catch (error) {
      throw await this.#whyNotRunning(ids, error);
    }
    await this.#api.wait(`status checks of ${ids.join(', ')}`, waitUntilInstanceStatusOk, { InstanceIds: ids }, 20 * 60);
  }

  /**
   * New instances that came up without a public address cannot be reached: they are terminated at
   * once, so nothing unreachable is left billing, and the launch fails with the reason.
   */
  async #requirePublicAddresses(ids: string[], output: ProviderOutput): Promise<void> {
    const described = await this.#api.call('look up the new instances\' addresses', (client) => client.send(new DescribeInstancesCommand({ InstanceIds: ids })));
    const unreachable = (described.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []).filter((instance) => !instance.PublicIpAddress && !instance.PublicDnsName);
    if (unreachable.length === 0) return;
    await this.#terminate(unreachable, output);
    throw new PccError(`${unreachable.map((instance) => instance.InstanceId).join(', ')} came up without a public address, so pcc cannot reach them; they are terminated and bill nothing more`, {
      hint: "pcc asks for a public address; the account or the default VPC's subnet refused one (an account-wide block of public addresses, or a subnet without an internet gateway). Check the VPC settings of the region.",
    });
  }

  /** An instance that ended instead of running: AWS's reason (capacity, quota ...) is the message. */
  async #whyNotRunning(ids: string[], error: unknown): Promise<unknown> {
    const described = await this.#api.call('look up why an instance did not start', (client) => client.send(new DescribeInstancesCommand({ InstanceIds: ids })));
    const ended = (described.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []).filter((instance) => instance.State?.Name !== 'running');
    if (ended.length === 0) return error;
    const reasons = ended.map((instance) => `${hostOf(instance)} is ${instance.State?.Name}: ${instance.StateReason?.Message ?? 'no reason given'}`);
    const capacity = reasons.some((reason) => /InsufficientInstanceCapacity/.test(reason));
    return new PccError(`instances did not start: ${reasons.join('; ')}`, {
      hint: capacity
        ? 'AWS has no capacity for that instance type there right now (InsufficientInstanceCapacity): try later, another --instance-type or region.'
        : 'They stay tracked: pcc status shows them, pcc destroy removes them.',
    });
  }

  async #stop(instances: Instance[], output: ProviderOutput): Promise<void> {
    const ids = instances.map((instance) => instance.InstanceId ?? '');
    if (ids.length === 0) return;
    await this.#api.call(`stop ${ids.join(', ')}`, (client) => client.send(new StopInstancesCommand({ InstanceIds: ids })));
    output(`stopping ${ids.join(', ')}`);
    await this.#api.wait(`stop of ${ids.join(', ')}`, waitUntilInstanceStopped, { InstanceIds: ids }, 15 * 60);
  }

  /** Terminates instances (their spot requests first, which would launch them again) and waits until their disks are gone. */
  async #terminate(instances: Instance[], output: ProviderOutput): Promise<void> {
    const ids = instances.map((instance) => instance.InstanceId ?? '');
    if (ids.length === 0) return;
    const spotRequests = instances.flatMap((instance) => (instance.SpotInstanceRequestId ? [instance.SpotInstanceRequestId] : []));
    if (spotRequests.length > 0) {
      await this.#api.call('cancel the spot requests', (client) => client.send(new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: spotRequests })));
      output(`cancelled spot requests ${spotRequests.join(', ')}`);
    }
    const volumes = instances.flatMap((instance) =>
      (instance.BlockDeviceMappings ?? []).flatMap((mapping) => (mapping.Ebs?.VolumeId && mapping.Ebs.DeleteOnTermination ? [mapping.Ebs.VolumeId] : [])),
    );
    await this.#api.call(`terminate ${ids.join(', ')}`, (client) => client.send(new TerminateInstancesCommand({ InstanceIds: ids })));
    output(`terminating ${ids.join(', ')}`);
    // An instance terminated while pending can still read as pending for a moment, which the SDK's
    // termination waiter takes as failure: it waits until the instance has left pending first.
    await this.#api.wait(`${ids.join(', ')} to leave pending`, waitUntilNotPending, { InstanceIds: ids }, 10 * 60);
    await this.#api.wait(`termination of ${ids.join(', ')}`, waitUntilInstanceTerminated, { InstanceIds: ids }, 15 * 60);
    if (volumes.length > 0) await this.#api.wait(`deletion of ${volumes.join(', ')}`, waitUntilVolumeDeleted, { VolumeIds: volumes }, 10 * 60);
  }
}

/** What EC2 bills an instance for: its type while it runs (LaunchTime is the last start), its disks always. */
function billingOf(instance: Instance, state: MachineState, diskGb: number): Billing {
  return {
    instanceType: instance.InstanceType ?? '',
    spot: instance.InstanceLifecycle === 'spot',
    ...(state === 'running' && instance.LaunchTime ? { runningSince: instance.LaunchTime.toISOString() } : {}),
    storage: [{ kind: 'volume', gb: diskGb }],
  };
}

function computeTypeOf(image: Image): ComputeType {
  return tagValue(image.Tags, TAG.type) === 'gpu' ? 'gpu' : 'cpu';
}

/** A launch failed after others of the same `up` succeeded: say that those stay tracked. */
function partialLaunch(error: unknown, launched: Machine[]): unknown {
  if (launched.length === 0 || !(error instanceof PccError)) return error;
  const names = launched.map((machine) => machine.name).join(', ');
  return new PccError(`${error.message} (launched before it and tracked: ${names})`, {
    hint: `${error.hint ? `${error.hint} ` : ''}${names} stay${launched.length === 1 ? 's' : ''} in pcc status: pcc resume ${names} connects, pcc destroy ${names} --yes removes.`,
    exitCode: error.exitCode,
  });
}
