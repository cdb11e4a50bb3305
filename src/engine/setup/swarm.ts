import { overlayAddress } from '../overlay/addressing.js';
import { overlayDriver } from '../overlay/overlay.js';
import { activateNode, removeNode } from '../swarm.js';
import type { SwarmRecord } from '../state.js';
import { mergeDaemonJson, SWARM_GPU_KIND } from './daemon-json.js';
import type { Facts, SetupStep, StepContext, StepPlan } from './step.js';
import { unsupportedOs } from './step.js';

/** The overlay network `pcc run` attaches its tasks to: replicas reach each other on it. */
export const SWARM_NETWORK = 'pcc-jobs';
/** VXLAN's own header: Swarm's overlay runs inside pcc's overlay, so its MTU is this much smaller. */
const VXLAN_OVERHEAD = 50;

function roleOf(context: StepContext): 'manager' | 'worker' {
  return context.host.role === 'init' ? 'manager' : 'worker';
}

/** The host's address on pcc's overlay: the only one Swarm listens and advertises on. */
function swarmAddress(context: StepContext): string | undefined {
  const index = context.host.overlay?.index;
  return index === undefined ? undefined : overlayAddress(context.settings.overlay, index).address;
}

function managerOf(context: StepContext): SwarmRecord | undefined {
  const known = context.swarm?.();
  return known === 'no-init' ? undefined : known;
}

function swarmMtu(context: StepContext): number {
  return context.settings.overlay.mtu - VXLAN_OVERHEAD;
}

function gpusOf(facts: Facts): string[] {
  return (facts.gpu_uuids ?? '').split(' ').filter(Boolean);
}

/** Whether the node is where it should be: in pcc's swarm, on its overlay address, in the right role. */
function joined(facts: Facts, context: StepContext, address: string, swarm: SwarmRecord | undefined): boolean {
  if (facts.swarm_state !== 'active' || facts.node_addr !== address) return false;
  if (roleOf(context) === 'manager') return facts.control === 'true';
  return (
    swarm !== undefined &&
    facts.remote_managers?.split(',').includes(`${swarm.managerAddress}:2377`) === true &&
    context.host.swarmNode?.clusterId === swarm.clusterId
  );
}

/**
 * A worker that just booted (resume) is `pending` until its session with the manager is up: it is the
 * same node of the same swarm, so leaving and joining again would only leave a stale node behind.
 */
function reconnecting(facts: Facts, context: StepContext, swarm: SwarmRecord | undefined): boolean {
  const node = context.host.swarmNode;
  return roleOf(context) === 'worker' && facts.swarm_state === 'pending' && node !== undefined && node.id === facts.node_id && node.clusterId === swarm?.clusterId;
}

/**
 * Docker Swarm mode follows the fleet: init is the manager, every compute host a worker, each
 * listening and advertising on its overlay address only, behind a firewall chain that admits Swarm's
 * ports from the overlay interface alone. GPU hosts advertise their GPUs as generic resources.
 */
export const swarm: SetupStep = {
  id: 'swarm',
  title: 'Docker Swarm node',
  removal: { inputs: () => ({}) },
  inputs: (context) => ({
    SWARM_ROLE: roleOf(context),
    SWARM_ADDRESS: swarmAddress(context) ?? '',
    SWARM_MANAGER: managerOf(context)?.managerAddress ?? '',
    SWARM_NETWORK,
    SWARM_MTU: String(swarmMtu(context)),
    OVERLAY_IF: overlayDriver(context.config).interface,
  }),
  plan(facts, context): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    const role = roleOf(context);
    const known = context.swarm?.();
    // Without init there is no manager to join: the rest of the host's setup goes on.
    if (role === 'worker' && known === 'no-init') return { kind: 'unchanged', note: 'no init: no swarm to join (pcc init starts one)' };
    const swarm = managerOf(context);
    if (role === 'worker' && !swarm) {
      return { kind: 'refuse', reason: "init's swarm manager is not set up yet: run pcc init (or pcc setup init), then set this host up again" };
    }
    const address = swarmAddress(context);
    // Only a dry run gets here before the overlay step's `prepare` gave the host its address.
    if (!address) return { kind: 'change', changes: [`join pcc's swarm on the overlay address the overlay step gives it`], apply: {} };
    const changes: string[] = [];
    const apply: Record<string, string> = {};
    if (facts.firewall !== 'ok') {
      apply.DO_FIREWALL = '1';
      changes.push(`admit Swarm's ports (2377, 7946, 4789) from the overlay interface ${overlayDriver(context.config).interface} only (pcc-swarm-firewall.service)`);
    }
    if (role === 'worker' && facts.mountpoint !== 'ok') {
      apply.DO_MOUNTPOINT = '1';
      changes.push('create /project, where runs see the project share');
    }
    const gpus = gpusOf(facts);
    const gpuRuntime = gpus.length > 0 && facts.nvidia_runtime === 'ok';
    const merged = mergeDaemonJson(facts.daemon_json, { swarmGpus: gpus, nvidiaDefaultRuntime: gpuRuntime });
    if (merged !== undefined) {
      apply.DAEMON_JSON_B64 = Buffer.from(merged).toString('base64');
      changes.push(
        gpus.length > 0
          ? `advertise ${gpus.length} GPU${gpus.length > 1 ? 's' : ''} to Swarm as ${SWARM_GPU_KIND} generic resources${gpuRuntime ? ', nvidia as the default runtime' : ''} (daemon.json; restarts Docker)`
          : "take pcc's GPU entries out of daemon.json (no GPU now; restarts Docker)",
      );
    }
    if (gpuRuntime && facts.gpu_resource !== 'ok') {
      apply.DO_GPU_RUNTIME = '1';
      changes.push("let the NVIDIA runtime hand each task the GPUs Swarm gave it (swarm-resource in the runtime's config.toml)");
    }
    const member = joined(facts, context, address, swarm);
    if (!member && reconnecting(facts, context, swarm)) {
      apply.DO_WAIT = '1';
      changes.push(`wait for the node to reconnect to the manager at ${swarm?.managerAddress}:2377 (it just started)`);
    } else if (!member) {
      // An empty state: Docker is not there yet (a dry run before the docker-engine step).
      const elsewhere = Boolean(facts.swarm_state) && facts.swarm_state !== 'inactive';
      if (elsewhere) apply.DO_LEAVE = '1';
      apply.DO_JOIN = '1';
      if (role === 'manager') {
        changes.push(`${elsewhere ? 'leave the old swarm and start' : 'start'} pcc's swarm with this host as its manager on ${address}`);
      } else if (swarm) {
        apply.SWARM_TOKEN = swarm.workerToken;
        changes.push(`${elsewhere ? 'leave the old swarm and join' : 'join'} pcc's swarm at ${swarm.managerAddress}:2377 as a worker on ${address}`);
      }
    }
    const network = `overlay ${swarmMtu(context)} true`;
    if (role === 'manager' && (!member || facts.network !== network)) {
      apply.DO_NETWORK = '1';
      changes.push(`create the attachable overlay network ${SWARM_NETWORK} with MTU ${swarmMtu(context)} (inside the overlay's ${context.settings.overlay.mtu})`);
    }
    return changes.length === 0 ? { kind: 'unchanged', note: `${role} on ${address}` } : { kind: 'change', changes, apply };
  },
  /**
   * Records the node (and on init the swarm compute hosts join), then labels it and makes it available.
   * A host that joined again as a new node has its old one taken out of the manager's list.
   */
  async settled(engine, host, facts) {
    const nodeId = facts.node_id ?? '';
    const clusterId = host.role === 'init' ? facts.cluster_id : engine.state.read().swarm?.clusterId;
    if (!nodeId || !clusterId) return;
    const previous = engine.state.read().hosts[host.name]?.swarmNode;
    if (host.role === 'compute' && previous && previous.id !== nodeId && previous.clusterId === clusterId) await removeNode(engine, host.name, previous.id);
    const address = host.overlay ? overlayAddress(engine.config.hosts[host.role].overlay, host.overlay.index).address : undefined;
    await engine.state.update((state) => {
      const record = state.hosts[host.name];
      if (record) record.swarmNode = { id: nodeId, clusterId };
      if (host.role === 'init' && address && facts.worker_token) state.swarm = { clusterId, managerAddress: address, workerToken: facts.worker_token };
    });
    await activateNode(engine, engine.state.read().hosts[host.name] ?? host, nodeId);
  },
};
