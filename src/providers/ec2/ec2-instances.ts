import { DescribeInstancesCommand, type Filter, type Instance, type InstanceStateName, type waitUntilInstanceRunning } from '@aws-sdk/client-ec2';
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

/**
 * A waiter, shaped like the SDK's, until none of the instances is pending any more. The SDK has none:
 * its termination waiter fails at once on a pending instance, which an instance terminated right
 * after its launch still is for a moment. Times out as the SDK's waiters do (TimeoutError).
 */
export async function waitUntilNotPending(
  params: Parameters<typeof waitUntilInstanceRunning>[0],
  input: { InstanceIds: string[] },
): Promise<void> {
  const deadline = Date.now() + params.maxWaitTime * 1000;
  let delay = (params.minDelay ?? 2) * 1000;
  let last = '';
  while (!params.abortController?.signal?.aborted && !params.abortSignal?.aborted) {
    const described = await params.client.send(new DescribeInstancesCommand({ InstanceIds: input.InstanceIds }));
    const states = (described.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []).map((instance) => instance.State?.Name);
    if (!states.includes('pending')) return;
    last = states.join(', ');
    if (Date.now() + delay > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, (params.maxDelay ?? 30) * 1000);
  }
  const error = new Error(JSON.stringify({ state: 'TIMEOUT', observedResponses: { [`200: ${last}`]: 1 } }));
  error.name = 'TimeoutError';
  throw error;
}
