import {
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeSpotInstanceRequestsCommand,
  DescribeVolumesCommand,
} from '@aws-sdk/client-ec2';
import type { Leftover } from '../provider.js';
import type { Ec2Api } from './ec2-api.js';
import { projectImages } from './ec2-images.js';
import { hostOf, PRESENT_STATES, projectInstances } from './ec2-instances.js';
import { projectFilter, TAG, tagValue } from './ec2-tags.js';

/**
 * The leak check: every resource still tagged for the project — instances, volumes, security groups,
 * key pairs, images, snapshots, spot requests — each with why it is still there. Empty means nothing
 * of the project is left in AWS.
 */
export async function findLeftovers(api: Ec2Api, project: string): Promise<Leftover[]> {
  const filters = [projectFilter(project)];
  const [instances, volumes, groups, keys, images, snapshots, spotRequests] = await Promise.all([
    projectInstances(api, project, PRESENT_STATES),
    api.all('list volumes', (client, NextToken) => client.send(new DescribeVolumesCommand({ Filters: filters, ...(NextToken ? { NextToken } : {}) })), (output) => output.Volumes ?? []),
    api.all('list security groups', (client, NextToken) => client.send(new DescribeSecurityGroupsCommand({ Filters: filters, ...(NextToken ? { NextToken } : {}) })), (output) => output.SecurityGroups ?? []),
    api.call('list key pairs', (client) => client.send(new DescribeKeyPairsCommand({ Filters: filters }))).then((output) => output.KeyPairs ?? []),
    projectImages(api, project),
    api.all('list snapshots', (client, NextToken) => client.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: filters, ...(NextToken ? { NextToken } : {}) })), (output) => output.Snapshots ?? []),
    api.all(
      'list spot requests',
      (client, NextToken) =>
        client.send(new DescribeSpotInstanceRequestsCommand({ Filters: [...filters, { Name: 'state', Values: ['open', 'active', 'disabled'] }], ...(NextToken ? { NextToken } : {}) })),
      (output) => output.SpotInstanceRequests ?? [],
    ),
  ]);
  const hostOfInstance = new Map(instances.map((instance) => [instance.InstanceId ?? '', hostOf(instance)]));
  const users = instances.map(hostOf);
  const shared = users.length > 0 ? `used by hosts still there: ${users.join(', ')}` : 'no host uses it; the next pcc destroy ec2 --yes deletes it';
  const imageOfSnapshot = new Map(
    images.flatMap((image) => (image.BlockDeviceMappings ?? []).map((mapping) => [mapping.Ebs?.SnapshotId ?? '', image.ImageId ?? ''] as const)),
  );
  const leftover = (kind: string, id: string | undefined, reason: string): Leftover => ({ provider: 'ec2', kind, id: id ?? '?', reason });
  return [
    ...instances.map((instance) =>
      leftover('instance', instance.InstanceId, instance.State?.Name === 'shutting-down'
        ? 'terminating (AWS finishes it within minutes; billing has stopped)'
        : `host ${hostOf(instance)} is ${instance.State?.Name} and was not destroyed`),
    ),
    ...volumes.map((volume) => {
      const attached = volume.Attachments?.[0]?.InstanceId;
      return leftover('volume', volume.VolumeId, attached
        ? `disk of ${hostOfInstance.get(attached) ?? attached}`
        : `${volume.State}, attached to no instance: delete it with aws ec2 delete-volume --volume-id ${volume.VolumeId}`);
    }),
    ...groups.map((group) => leftover('security group', group.GroupId, shared)),
    ...keys.map((key) => leftover('key pair', key.KeyName, shared)),
    ...images.map((image) => leftover('image', image.ImageId, `host ${tagValue(image.Tags, TAG.host)} is saved as it (pcc images rm ${image.ImageId} deletes it)`)),
    ...snapshots.map((snapshot) => {
      const image = imageOfSnapshot.get(snapshot.SnapshotId ?? '');
      return leftover('snapshot', snapshot.SnapshotId, image
        ? `holds image ${image}`
        : `belongs to no image: delete it with aws ec2 delete-snapshot --snapshot-id ${snapshot.SnapshotId}`);
    }),
    ...spotRequests.map((request) => leftover('spot request', request.SpotInstanceRequestId, `${request.State} for ${request.InstanceId ? hostOfInstance.get(request.InstanceId) ?? request.InstanceId : 'no instance'}`)),
  ];
}
