import { DescribeInstancesCommand, DescribeVolumesCommand, type Filter, type Instance, type InstanceStateName } from '@aws-sdk/client-ec2';
import type { Ec2Api } from './ec2-api.js';
import { projectFilter, TAG, tagValue } from './ec2-tags.js';

/** Instance states in which an instance exists for pcc (it can run again). */
export const LIVE_STATES: InstanceStateName[] = ['pending', 'running', 'stopping', 'stopped'];
/** Live, or on the way out but still holding its network interface and key. */
export const PRESENT_STATES: InstanceStateName[] = [...LIVE_STATES, 'shutting-down'];

/** The project's instances in the given states (every page). */
export async function projectInstances(api: Ec2Api, project: string, states: InstanceStateName[], filters: Filter[] = []): Promise<Instance[]> {
  return api.all(
    'list the instances',
    (client, NextToken) =>
      client.send(
        new DescribeInstancesCommand({
          Filters: [projectFilter(project), { Name: 'instance-state-name', Values: states }, ...filters],
          ...(NextToken ? { NextToken } : {}),
        }),
      ),
    (output) => (output.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []),
  );
}

/** The pcc host an instance is: its own id, or the host it continues after a resume from an image. */
export function hostOf(instance: Instance): string {
  return tagValue(instance.Tags, TAG.host) ?? instance.InstanceId ?? '';
}

/** The size of the project's disks (GiB) per instance they are attached to: what EC2 bills for storage, running or stopped. */
export async function diskGbByInstance(api: Ec2Api, project: string): Promise<Map<string, number>> {
  const volumes = await api.all(
    'list the disks',
    (client, NextToken) => client.send(new DescribeVolumesCommand({ Filters: [projectFilter(project)], ...(NextToken ? { NextToken } : {}) })),
    (output) => output.Volumes ?? [],
  );
  const sizes = new Map<string, number>();
  for (const volume of volumes) {
    const instance = volume.Attachments?.[0]?.InstanceId;
    if (instance) sizes.set(instance, (sizes.get(instance) ?? 0) + (volume.Size ?? 0));
  }
  return sizes;
}

