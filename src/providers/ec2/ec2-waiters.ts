import { DescribeInstancesCommand, DescribeVolumesModificationsCommand, type VolumeModification, type waitUntilInstanceRunning } from '@aws-sdk/client-ec2';

type WaiterParams = Parameters<typeof waitUntilInstanceRunning>[0];

/** What one look found: done, failed with what AWS answered, or still underway with what it answered. */
type Look = { done: true } | { done: false; answer: string; failed?: boolean };

/**
 * The polling loop of a waiter the SDK lacks, shaped like the SDK's own: backs off between looks,
 * stops when aborted, and ends as the SDK's waiters do (TimeoutError, or a FAILURE with the answer
 * that ended it) so Ec2Api.wait explains both alike.
 */
async function poll(params: WaiterParams, look: () => Promise<Look>): Promise<void> {
  const deadline = Date.now() + params.maxWaitTime * 1000;
  let delay = (params.minDelay ?? 2) * 1000;
  let last = '';
  while (!params.abortController?.signal?.aborted && !params.abortSignal?.aborted) {
    const seen = await look();
    if (seen.done) return;
    last = seen.answer;
    if (seen.failed) throw new Error(JSON.stringify({ state: 'FAILURE', observedResponses: { [`200: ${last}`]: 1 } }));
    if (Date.now() + delay > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, (params.maxDelay ?? 30) * 1000);
  }
  const error = new Error(JSON.stringify({ state: 'TIMEOUT', observedResponses: { [`200: ${last}`]: 1 } }));
  error.name = 'TimeoutError';
  throw error;
}

/**
 * Until none of the instances is pending any more. The SDK has no such waiter: its termination
 * waiter fails at once on a pending instance, which an instance terminated right after its launch
 * still is for a moment.
 */
export function waitUntilNotPending(params: WaiterParams, input: { InstanceIds: string[] }): Promise<void> {
  return poll(params, async () => {
    const described = await params.client.send(new DescribeInstancesCommand({ InstanceIds: input.InstanceIds }));
    const states = (described.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []).map((instance) => instance.State?.Name);
    return states.includes('pending') ? { done: false, answer: states.join(', ') } : { done: true };
  });
}

/**
 * Until the latest modification of every volume is optimizing or completed: from then on the
 * instance sees the new size (AWS's guide to monitoring volume modifications). A failed one ends it.
 */
export function waitUntilVolumesResized(params: WaiterParams, input: { VolumeIds: string[] }): Promise<void> {
  return poll(params, async () => {
    const described = await params.client.send(new DescribeVolumesModificationsCommand({ VolumeIds: input.VolumeIds }));
    const latest = latestPerVolume(described.VolumesModifications ?? []);
    const failed = latest.find((modification) => modification.ModificationState === 'failed');
    if (failed) return { done: false, failed: true, answer: `${failed.VolumeId} failed: ${failed.StatusMessage ?? 'no reason given'}` };
    if (latest.length === input.VolumeIds.length && latest.every((modification) => modification.ModificationState !== 'modifying')) return { done: true };
    return { done: false, answer: latest.map((modification) => `${modification.VolumeId} ${modification.ModificationState} ${modification.Progress ?? 0}%`).join(', ') };
  });
}

export function latestPerVolume(modifications: VolumeModification[]): VolumeModification[] {
  const latest = new Map<string, VolumeModification>();
  for (const modification of modifications) {
    const seen = latest.get(modification.VolumeId ?? '');
    if (!seen || (modification.StartTime?.getTime() ?? 0) >= (seen.StartTime?.getTime() ?? 0)) latest.set(modification.VolumeId ?? '', modification);
  }
  return [...latest.values()];
}
