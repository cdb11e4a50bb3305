import {
  CreateImageCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  waitUntilImageAvailable,
  type ArchitectureValues,
  type Image,
  type Instance,
} from '@aws-sdk/client-ec2';
import type { Config } from '../../core/config/load.js';
import { PccError } from '../../core/errors.js';
import type { ComputeType, ProviderOutput, SavedImage } from '../provider.js';
import type { Ec2Api } from './ec2-api.js';
import { projectFilter, TAG, tags, tagSpecs, tagValue } from './ec2-tags.js';

/**
 * Machine images: the base image a new host starts from, and the images pcc saves hosts as
 * (`pcc save PATTERN --image`), which are listed, resumed from and removed here.
 */

/** What a launch needs of an image: its id and its root disk. */
export interface LaunchImage {
  id: string;
  rootDevice: string;
  rootGb: number;
}

/** Canonical's Ubuntu 24.04 LTS for cpu; AWS's Deep Learning Base image (NVIDIA driver) for gpu. */
const BASE_IMAGES: Record<ComputeType, { owner: string; names: Record<'x86_64' | 'arm64', string> }> = {
  cpu: {
    owner: '099720109477',
    names: {
      x86_64: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*',
      arm64: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-*',
    },
  },
  gpu: {
    owner: 'amazon',
    names: {
      x86_64: 'Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 24.04) *',
      arm64: 'Deep Learning ARM64 Base OSS Nvidia Driver GPU AMI (Ubuntu 24.04) *',
    },
  },
};

/** The image new hosts of this type start from: EC2_AMI_CPU/GPU, else the newest base image. */
export async function baseImage(api: Ec2Api, config: Config, computeType: ComputeType, architecture: 'x86_64' | 'arm64'): Promise<LaunchImage> {
  const override = config.aws.images[computeType];
  const key = computeType === 'gpu' ? 'EC2_AMI_GPU' : 'EC2_AMI_CPU';
  if (override) {
    const found = await api.call(`look up ${key}=${override}`, (client) => client.send(new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: [override] }] })));
    const image = found.Images?.[0];
    if (!image) throw new PccError(`${key}=${override} is not an image pcc can use in ${await api.region()}`, { hint: `Set ${key} to an AMI of that region, or unset it for the default image.` });
    // An image of another architecture would launch nothing: AWS refuses it, or the instance never boots.
    if (image.Architecture && image.Architecture !== architecture) {
      throw new PccError(`${key}=${override} is an ${image.Architecture} image, but the instance type runs ${architecture}`, {
        hint: `Set ${key} to an ${architecture} AMI, or choose an instance type for ${image.Architecture} (EC2_INSTANCE_TYPE_${computeType.toUpperCase()} or --instance-type).`,
      });
    }
    return launchImage(image);
  }
  const base = BASE_IMAGES[computeType];
  const found = await api.all(
    `find the newest ${computeType} base image`,
    (client, NextToken) =>
      client.send(
        new DescribeImagesCommand({
          Owners: [base.owner],
          Filters: [
            { Name: 'name', Values: [base.names[architecture]] },
            { Name: 'state', Values: ['available'] },
            { Name: 'architecture', Values: [architecture satisfies ArchitectureValues] },
          ],
          ...(NextToken ? { NextToken } : {}),
        }),
      ),
    (output) => output.Images ?? [],
  );
  const newest = found.sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''))[0];
  if (!newest) {
    throw new PccError(`no ${computeType} base image ("${base.names[architecture]}" by ${base.owner}) in ${await api.region()}`, {
      hint: `Set ${key} to an AMI of that region.`,
    });
  }
  return launchImage(newest);
}

export function launchImage(image: Image): LaunchImage {
  const rootDevice = image.RootDeviceName ?? '/dev/sda1';
  const root = image.BlockDeviceMappings?.find((mapping) => mapping.DeviceName === rootDevice);
  return { id: image.ImageId ?? '', rootDevice, rootGb: root?.Ebs?.VolumeSize ?? 8 };
}

/** Images pcc saved hosts of the project as (any state but failed or gone). */
export async function projectImages(api: Ec2Api, project: string): Promise<Image[]> {
  const images = await api.all(
    'list saved images',
    (client, NextToken) => client.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [projectFilter(project)], ...(NextToken ? { NextToken } : {}) })),
    (output) => output.Images ?? [],
  );
  return images.filter((image) => image.State !== 'deregistered' && image.State !== 'failed');
}

export function savedImageOf(image: Image): SavedImage {
  const type = tagValue(image.Tags, TAG.type);
  const sizes = (image.BlockDeviceMappings ?? []).map((mapping) => mapping.Ebs?.VolumeSize ?? 0);
  return {
    id: image.ImageId ?? '',
    provider: 'ec2',
    host: tagValue(image.Tags, TAG.host) ?? '',
    computeType: type === 'gpu' ? 'gpu' : 'cpu',
    state: image.State ?? 'unknown',
    createdAt: image.CreationDate,
    sizeGb: sizes.length > 0 ? sizes.reduce((sum, size) => sum + size, 0) : undefined,
  };
}

/** Creates an image of a stopped instance, tagged (image and snapshots) as host `host`, and waits for it. */
export async function createHostImage(api: Ec2Api, project: string, host: string, instance: Instance, output: ProviderOutput): Promise<string> {
  const computeType = tagValue(instance.Tags, TAG.type) ?? 'cpu';
  const imageTags = tags({
    [TAG.project]: project,
    [TAG.name]: `pcc-${project}-${host}`,
    [TAG.type]: computeType,
    [TAG.host]: host,
    [TAG.instanceType]: instance.InstanceType,
    [TAG.market]: instance.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
    [TAG.systemGb]: tagValue(instance.Tags, TAG.systemGb),
  });
  const created = await api.call(`save ${host} as an image`, (client) =>
    client.send(
      new CreateImageCommand({
        InstanceId: instance.InstanceId,
        Name: `pcc-${project}-${host}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
        Description: `pcc project ${project}: host ${host}, saved by pcc save --image`,
        TagSpecifications: tagSpecs(['image', 'snapshot'], imageTags),
      }),
    ),
  );
  const imageId = created.ImageId;
  if (!imageId) throw new PccError(`saving ${host} as an image returned no image id`);
  output(`saving as image ${imageId}; waiting until it is available`, host);
  await api.wait(`image ${imageId} of ${host}`, waitUntilImageAvailable, { ImageIds: [imageId] }, 2 * 60 * 60);
  return imageId;
}

/**
 * Deregisters an image together with the snapshots behind it (what it is billed for), in one call:
 * deleting them afterwards can meet `InvalidSnapshot.InUse` once the image is already gone, and
 * then nothing would find them again. A snapshot still there afterwards (shared with another image,
 * or AWS still releasing it) is deleted while its in-use answer lasts.
 */
export async function deleteImage(api: Ec2Api, image: Image, output: ProviderOutput): Promise<void> {
  const id = image.ImageId ?? '';
  await api.call(`deregister image ${id}`, (client) => client.send(new DeregisterImageCommand({ ImageId: id, DeleteAssociatedSnapshots: true })));
  const snapshots = (image.BlockDeviceMappings ?? []).map((mapping) => mapping.Ebs?.SnapshotId).filter((snapshot): snapshot is string => Boolean(snapshot));
  const left = snapshots.length === 0 ? [] : await api.all(
    'list the image\'s snapshots',
    (client, NextToken) => client.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'snapshot-id', Values: snapshots }], ...(NextToken ? { NextToken } : {}) })),
    (page) => page.Snapshots ?? [],
  );
  for (const snapshot of left) {
    const snapshotId = snapshot.SnapshotId ?? '';
    await api.call(`delete snapshot ${snapshotId}`, (client) => client.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })), { retryOn: ['InvalidSnapshot.InUse'] });
  }
  output(`deleted image ${id} and its snapshots`, tagValue(image.Tags, TAG.host));
}
