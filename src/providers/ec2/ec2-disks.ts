import { DescribeVolumesCommand, DescribeVolumesModificationsCommand, ModifyVolumeCommand, type Instance } from '@aws-sdk/client-ec2';
import { PccError } from '../../core/errors.js';
import type { ProviderOutput } from '../provider.js';
import type { Ec2Api } from './ec2-api.js';
import { hostOf } from './ec2-instances.js';
import { TAG, tagValue } from './ec2-tags.js';
import { latestPerVolume, waitUntilVolumesResized } from './ec2-waiters.js';

/**
 * A host's root disk holds its system (the image's own root size, tagged `pcc:system-gb` at launch)
 * plus the btrfs volume behind /var/lib/docker (VARLIBDOCKER_GB). The size a root disk needs.
 */
export function rootGbFor(systemGb: number, dockerGb: number): number {
  return systemGb + dockerGb;
}

/** The system size an instance or image was tagged with, or undefined where pcc did not tag it. */
export function systemGbOf(tagsOf: { Tags?: Instance['Tags'] }): number | undefined {
  const value = Number(tagValue(tagsOf.Tags, TAG.systemGb));
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * Grows the root volumes of these instances to hold a Docker volume of `dockerGb` (ModifyVolume) and
 * waits until the new size is usable (the modification is optimizing or completed); the host's setup
 * then grows its partition and filesystem. Never shrinks; a volume already being grown to the size is
 * only waited for.
 */
export async function fitRootVolumes(api: Ec2Api, instances: Instance[], dockerGb: number, output: ProviderOutput): Promise<void> {
  const wanted = new Map<string, { host: string; gb: number }>();
  for (const instance of instances) {
    const systemGb = systemGbOf(instance);
    const root = instance.BlockDeviceMappings?.find((mapping) => mapping.DeviceName === instance.RootDeviceName) ?? instance.BlockDeviceMappings?.[0];
    const volumeId = root?.Ebs?.VolumeId;
    // An instance launched before pcc tagged the system size: its disk is left as it is.
    if (systemGb === undefined || !volumeId) continue;
    wanted.set(volumeId, { host: hostOf(instance), gb: rootGbFor(systemGb, dockerGb) });
  }
  if (wanted.size === 0) return;
  const ids = [...wanted.keys()];
  const [volumes, modifications] = await Promise.all([
    api.all('look up the root disks', (client, NextToken) => client.send(new DescribeVolumesCommand({ VolumeIds: ids, ...(NextToken ? { NextToken } : {}) })), (page) => page.Volumes ?? []),
    api.all('look up changes to the root disks', (client, NextToken) => client.send(new DescribeVolumesModificationsCommand({ VolumeIds: ids, ...(NextToken ? { NextToken } : {}) })), (page) => page.VolumesModifications ?? []),
  ]);
  const latestChanges = latestPerVolume(modifications);
  const growing: string[] = [];
  for (const volume of volumes) {
    const volumeId = volume.VolumeId ?? '';
    const target = wanted.get(volumeId);
    if (!target) continue;
    const latest = latestChanges.find((modification) => modification.VolumeId === volumeId && modification.ModificationState !== 'failed');
    if (Math.max(latest?.TargetSize ?? 0, volume.Size ?? 0) >= target.gb) {
      if (latest?.ModificationState === 'modifying') growing.push(volumeId);
      continue;
    }
    try {
      await api.call(`grow the root disk of ${target.host}`, (client) => client.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: target.gb })));
    } catch (error) {
      throw new PccError(`${target.host}: its root disk ${volumeId} could not grow from ${volume.Size} to ${target.gb} GiB for VARLIBDOCKER_GB=${dockerGb}: ${(error as Error).message}`, {
        hint: 'AWS changes a volume at most once every 6 hours, and only once its last change has finished: run pcc setup again later, or keep VARLIBDOCKER_GB as it was.',
      });
    }
    output(`growing the root disk ${volumeId} from ${volume.Size} to ${target.gb} GiB (VARLIBDOCKER_GB=${dockerGb})`, target.host);
    growing.push(volumeId);
  }
  if (growing.length > 0) await api.wait(`the root disks ${growing.join(', ')} to take their new size`, waitUntilVolumesResized, { VolumeIds: growing }, 30 * 60);
}
