import type Docker from 'dockerode';
import type { Engine } from './engine.js';
import { initDocker } from './controller/init-clients.js';
import type { HostRecord } from './state.js';

/**
 * pcc's Docker Swarm seen from its manager, init: node labels, draining and removal. The swarm setup
 * step (setup/swarm.ts) joins hosts; this keeps the manager's view of them in step with the fleet.
 */

/** The labels every node carries; `pcc run` and users' own constraints can select on them. */
export const NODE_LABEL = { host: 'pcc.host', provider: 'pcc.provider', type: 'pcc.type', instanceType: 'pcc.instance-type' } as const;

export function nodeLabels(host: HostRecord): Record<string, string> {
  const instanceType = host.extras.instanceType || host.billing?.instanceType;
  return {
    [NODE_LABEL.host]: host.name,
    [NODE_LABEL.provider]: host.provider,
    [NODE_LABEL.type]: host.role === 'init' ? 'init' : host.computeType,
    ...(instanceType ? { [NODE_LABEL.instanceType]: instanceType } : {}),
  };
}

/** init's Docker engine when init runs and manages the swarm; undefined otherwise (nothing to tell it). */
export function managerDocker(engine: Engine): Docker | undefined {
  const state = engine.state.read();
  const init = state.hosts.init;
  if (!state.swarm || init?.state !== 'running' || !init.ssh) return undefined;
  return initDocker(engine, init);
}

/**
 * Sets a node's labels and makes it available for work again (resume undoes save's drain). The rest of
 * its spec (the user's own labels) stays.
 */
export async function activateNode(engine: Engine, host: HostRecord, nodeId: string): Promise<void> {
  const docker = managerDocker(engine);
  if (!docker) return;
  await updateNode(docker, nodeId, (spec) => ({ ...spec, Availability: 'active', Labels: { ...spec.Labels, ...nodeLabels(host) } }));
  engine.logs.append(host.name, `swarm: node ${nodeId} active with labels ${Object.entries(nodeLabels(host)).map(([key, value]) => `${key}=${value}`).join(' ')}`);
}

/**
 * Drains the hosts' nodes before their machines stop (save, destroy): Swarm stops their tasks and gives
 * them no new work. Skipped, with a log line, where the manager is not running.
 */
export async function drainNodes(engine: Engine, hosts: HostRecord[]): Promise<void> {
  const nodes = hosts.filter((host) => host.role === 'compute' && host.swarmNode);
  if (nodes.length === 0) return;
  const docker = managerDocker(engine);
  for (const host of nodes) {
    if (!docker) {
      engine.logs.append(host.name, 'swarm: not drained: init, the manager, is not running');
      continue;
    }
    try {
      await updateNode(docker, host.swarmNode?.id ?? '', (spec) => ({ ...spec, Availability: 'drain' }));
      engine.logs.append(host.name, 'swarm: node drained');
    } catch (error) {
      engine.events.emit({ type: 'log', level: 'warn', message: `${host.name}: could not drain its swarm node: ${(error as Error).message}` });
    }
  }
}

/** Takes forgotten hosts' nodes out of the manager's list (they left, or their machines are gone). */
export async function removeNodes(engine: Engine, hosts: HostRecord[]): Promise<void> {
  for (const host of hosts) if (host.role === 'compute' && host.swarmNode) await removeNode(engine, host.name, host.swarmNode.id);
}

/** Removes one node from the manager's list; one already gone is what was wanted. */
export async function removeNode(engine: Engine, hostName: string, nodeId: string): Promise<void> {
  const docker = managerDocker(engine);
  if (!docker) return;
  try {
    await docker.getNode(nodeId).remove({ force: true });
    engine.logs.append(hostName, `swarm: node ${nodeId} removed from the manager's list`);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) {
      engine.events.emit({ type: 'log', level: 'warn', message: `${hostName}: could not remove its swarm node ${nodeId}: ${(error as Error).message}` });
    }
  }
}

interface NodeSpec {
  Availability?: string;
  Role?: string;
  Labels?: Record<string, string>;
  [key: string]: unknown;
}

async function updateNode(docker: Docker, nodeId: string, change: (spec: NodeSpec) => NodeSpec): Promise<void> {
  const node = docker.getNode(nodeId);
  const current = (await node.inspect()) as { Version: { Index: number }; Spec: NodeSpec };
  // docker-modem sends _query as the query string and _body as the request body.
  await node.update({ _query: { version: current.Version.Index }, _body: change(current.Spec) });
}
