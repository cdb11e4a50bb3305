import type { Filter, ResourceType, Tag, TagSpecification } from '@aws-sdk/client-ec2';

/**
 * Tags on everything pcc creates in AWS: the project (what the leak check and reconcile look for),
 * a readable Name, what the resource is for, and the host it belongs to where there is one.
 */
export const TAG = {
  project: 'pcc:project',
  name: 'Name',
  /** cpu or gpu for machines and their disks and images; security-group or key-pair for shared ones. */
  type: 'pcc:type',
  /** The pcc host a saved image holds, or an instance launched from one continues. */
  host: 'pcc:host',
  /** What a saved image was launched as, so resuming it launches the same. */
  instanceType: 'pcc:instance-type',
  market: 'pcc:market',
  /** The image's own root disk size (GiB), without the room for Docker's volume added at launch. */
  systemGb: 'pcc:system-gb',
} as const;

export function tags(values: Record<string, string | undefined>): Tag[] {
  return Object.entries(values)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([Key, Value]) => ({ Key, Value }));
}

export function tagSpecs(resourceTypes: ResourceType[], list: Tag[]): TagSpecification[] {
  return resourceTypes.map((ResourceType) => ({ ResourceType, Tags: list }));
}

export function tagValue(list: Tag[] | undefined, key: string): string | undefined {
  return list?.find((tag) => tag.Key === key)?.Value;
}

/** Matches what pcc tagged for this project. */
export function projectFilter(project: string): Filter {
  return { Name: `tag:${TAG.project}`, Values: [project] };
}
