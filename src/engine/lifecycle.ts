import type { ComputeType, Leftover, MachineRole, Provider, ProviderName, SavedImage } from '../providers/provider.js';
import { providerOutput, type Engine } from './engine.js';
import { hostCostOf, type HostCost } from './cost.js';
import { PccError, UsageError } from '../core/errors.js';
import { hostGroups, selectHosts } from './inventory.js';
import { endpointOf } from './overlay/members.js';
import { syncOverlay } from './overlay/overlay.js';
import { emitState, reconcile, recordEndpoint, recordOf } from './reconcile.js';
import { projectShareAfterServerRestart } from './setup/project-share.js';
import { failureLines, setupHosts } from './setup/setup.js';
import { drainNodes, removeNodes } from './swarm.js';
import type { HostRecord } from './state.js';

/**
 * Host lifecycle: bring machines up, save, resume and destroy them, keeping state.json, the pinned
 * host keys and the ~/.ssh/config entries in step with what the providers hold.
 */

/** What `pcc status` shows of a host. */
export interface HostView {
  name: string;
  provider: ProviderName;
  role: HostRecord['role'];
  computeType: ComputeType;
  groups: string[];
  state: HostRecord['state'];
  /** host:port pcc reaches it at over SSH, once known. */
  address: string | undefined;
  /** The last setup: when, whether every step succeeded, the failed steps with why; null when never set up. */
  setup: { at: string; ok: boolean; failures: { step: string; message: string }[] } | null;
  /** Why it powered itself off (idle stop) and when; null when it did not. */
  selfStop: { reason: string; at: string } | null;
  /** What it costs (USD) where its provider bills it; null for local machines. */
  cost: HostCost | null;
  /** The host pcc brought up in its place after a spot interruption (--relaunch); null when none. */
  replacedBy: string | null;
}

export function viewOf(engine: Engine, host: HostRecord): HostView {
  return {
    name: host.name,
    provider: host.provider,
    role: host.role,
    computeType: host.computeType,
    groups: hostGroups(host),
    state: host.state,
    address: host.ssh ? `${host.ssh.host}:${host.ssh.port}` : undefined,
    setup: host.lastSetup ? { at: host.lastSetup.at, ok: host.lastSetup.ok, failures: host.lastSetup.failures } : null,
    selfStop: host.selfStop ?? null,
    cost: hostCostOf(engine, host) ?? null,
    replacedBy: host.replacedBy ?? null,
  };
}

function provider(engine: Engine, name: ProviderName): Provider {
  const found = engine.providers.get(name);
  if (!found) throw new PccError(`the ${name} provider is not available in this version of pcc`, { hint: 'Use the vagrant provider.', exitCode: 2 });
  return found;
}

async function task<T>(engine: Engine, name: string, title: string, work: () => Promise<T>): Promise<T> {
  engine.events.emit({ type: 'task', task: name, phase: 'started', title });
  try {
    const result = await work();
    engine.events.emit({ type: 'task', task: name, phase: 'succeeded', title });
    return result;
  } catch (error) {
    engine.events.emit({ type: 'task', task: name, phase: 'failed', title, error: (error as Error).message });
    throw error;
  }
}

export interface UpOptions {
  count: number;
  computeType: ComputeType;
  /** `init` brings up the controller (one machine named init). */
  role?: MachineRole;
  /** The provider's machine type (EC2: instance type); for providers that have them. */
  machineType?: string;
  /** Interruptible capacity (EC2 spot); for providers that have it. */
  spot?: boolean;
  /** With spot: when EC2 interrupts a host, pcc brings up a replacement of the same type (spot-relaunch.ts). */
  relaunch?: boolean;
  /** Runs the host setup on the new machines once they answer, as the original all-local.sh did. */
  setup?: boolean;
}

/** Brings up `count` new machines, waits for SSH, pins their keys and writes their ssh config entries. */
export async function up(engine: Engine, providerName: ProviderName, options: UpOptions): Promise<HostView[]> {
  const chosen = provider(engine, providerName);
  const capabilities = chosen.capabilities();
  if (options.machineType !== undefined && !capabilities.machineTypes) {
    throw new UsageError(`the ${providerName} provider has no machine types to choose from`, 'Leave out --instance-type.');
  }
  if (options.spot && !capabilities.spot) throw new UsageError(`the ${providerName} provider has no spot capacity`, 'Leave out --spot.');
  if (options.relaunch && !options.spot) throw new UsageError('--relaunch replaces a spot host after an interruption: it needs --spot', 'Add --spot, or leave out --relaunch.');
  const title = options.role === 'init' ? 'bring up init' : `bring up ${options.count} ${providerName} machine(s)`;
  return task(engine, 'up', title, async () => {
    await reconcile(engine);
    const machines = await chosen.up(
      {
        count: options.count,
        computeType: options.computeType,
        ...(options.role ? { role: options.role } : {}),
        ...(options.machineType !== undefined ? { machineType: options.machineType } : {}),
        ...(options.spot ? { spot: true } : {}),
        onPlanned: async (planned) => {
          // A machine pcc (re-)creates gets a fresh pin.
          for (const machine of planned) await engine.knownHosts.forget(machine.name);
          const now = new Date().toISOString();
          await engine.state.update((state) => {
            for (const machine of planned) state.hosts[machine.name] = { ...recordOf(machine, now), ...(options.relaunch ? { relaunch: true } : {}) };
          });
          for (const machine of planned) emitState(engine, { ...recordOf(machine, now) });
        },
      },
      providerOutput(engine),
    );
    const hosts = await Promise.all(machines.map((machine) => connect(engine, chosen, machine.name)));
    await engine.sshConfig.writeHosts(engine.state.read().hosts);
    if (options.setup && hosts.length > 0) {
      const summary = await setupHosts(engine, hosts, `set up ${hosts.map((host) => host.name).join(', ')}`);
      if (!summary.ok) {
        throw new PccError(`the machines are up, but their setup failed: ${failureLines(summary).join('; ')}`, {
          hint: `Fix the cause, then run pcc setup ${hosts.map((host) => host.name).join(',')} (it repairs only what differs).`,
        });
      }
    }
    const after = engine.state.read().hosts;
    return hosts.map((host) => viewOf(engine, after[host.name] ?? host));
  });
}

export interface SaveOptions {
  /** Save as an image and remove the machine (providers with images); resume starts from the image. */
  image?: boolean;
}

/**
 * Saves the selected running hosts (suspend, or power off where the provider cannot suspend); with
 * `image`, also stopped ones, as images.
 */
export async function save(engine: Engine, pattern: string, options: SaveOptions = {}): Promise<HostView[]> {
  return task(engine, 'save', `save ${pattern}${options.image ? ' as images' : ''}`, async () => {
    const states: HostRecord['state'][] = options.image ? ['running', 'saved', 'stopped', 'interrupted'] : ['running'];
    const selected = selectHosts(await reconcile(engine), pattern).filter((host) => states.includes(host.state));
    // Swarm stops their tasks and gives them no new work while they are away; resume's setup undoes it.
    await drainNodes(engine, selected.filter((host) => host.state === 'running'));
    for (const [providerName, hosts] of byProvider(selected)) {
      const names = hosts.map((host) => host.name);
      const chosen = provider(engine, providerName);
      if (options.image && !chosen.saveImage) {
        throw new UsageError(`the ${providerName} provider cannot save hosts as images`, `Save them without --image, or leave ${providerName} hosts out of the pattern.`);
      }
      for (const name of names) engine.ssh.close(name);
      if (options.image) await chosen.saveImage?.(names, providerOutput(engine));
      else await chosen.save(names, providerOutput(engine));
    }
    const after = await reconcile(engine);
    return after.filter((host) => selected.some((s) => s.name === host.name)).map((host) => viewOf(engine, host));
  });
}

/**
 * Starts the selected saved or stopped hosts, refreshes their addresses and SSH entries, and runs the
 * host setup again on those it ran on before (it is idempotent: it repairs only what differs).
 */
export async function resume(engine: Engine, pattern: string): Promise<HostView[]> {
  return task(engine, 'resume', `resume ${pattern}`, async () => {
    const selected = selectHosts(await reconcile(engine), pattern).filter((host) => host.state !== 'gone');
    const notCreated = selected.filter((host) => host.state === 'not-created');
    if (notCreated.length > 0) {
      throw new PccError(`cannot resume ${notCreated.map((host) => host.name).join(', ')}: no machine exists for it`, {
        hint: 'Destroy it (pcc destroy NAME --yes) and bring up a new one (pcc up).',
      });
    }
    const results: HostRecord[] = [];
    for (const [providerName, hosts] of byProvider(selected)) {
      const chosen = provider(engine, providerName);
      await chosen.start(hosts.map((host) => host.name), providerOutput(engine));
      results.push(...(await Promise.all(hosts.map((host) => connect(engine, chosen, host.name)))));
    }
    await engine.sshConfig.writeHosts(engine.state.read().hosts);
    await rejoinOverlay(engine, results);
    const setUpBefore = results.filter((host) => host.setupAt !== undefined);
    if (setUpBefore.length > 0) await setupHosts(engine, setUpBefore, `set up ${setUpBefore.map((host) => host.name).join(', ')} again`);
    if (setUpBefore.some((host) => host.role === 'init')) await mountShareAgain(engine, results.map((host) => host.name));
    const after = engine.state.read().hosts;
    return results.map((host) => viewOf(engine, after[host.name] ?? host));
  });
}

/** What a destroy removed, and what its providers still hold for the project (and why). */
export interface DestroyReport {
  destroyed: string[];
  left: Leftover[];
}

/**
 * Destroys the selected hosts and removes every trace pcc keeps of them; then each provider involved
 * removes what nothing uses any more and reports what it still holds. A provider's name as the
 * pattern selects all its hosts, even none, so `pcc destroy ec2` always tidies up after EC2.
 */
export async function destroy(engine: Engine, pattern: string): Promise<DestroyReport> {
  return task(engine, 'destroy', `destroy ${pattern}`, async () => {
    const hosts = await reconcile(engine);
    const whole = engine.providers.get(pattern as ProviderName);
    const matched = whole ? hosts.filter((host) => host.provider === whole.name) : selectHosts(hosts, pattern);
    // The user's own machines are never destroyed: `pcc remove` forgets one.
    const own = matched.filter((host) => provider(engine, host.provider).capabilities().existing);
    const selected = matched.filter((host) => !own.includes(host));
    if (own.length > 0) {
      const names = own.map((host) => host.name).join(', ');
      if (selected.length === 0 && !whole) throw new UsageError(`${names}: pcc does not destroy your own machines`, `pcc remove ${own[0]?.name ?? 'NAME'} forgets one and takes pcc's things off it.`);
      engine.events.emit({ type: 'log', level: 'info', message: `kept ${names}: your own machines (pcc remove NAME forgets one)` });
    }
    // With init going too, the whole swarm goes with it.
    if (!selected.some((host) => host.role === 'init')) await drainNodes(engine, selected.filter((host) => host.state === 'running'));
    for (const [providerName, hosts] of byProvider(selected)) {
      for (const host of hosts) engine.ssh.close(host.name);
      // Gone hosts too: Vagrant still defines a machine that was removed behind its back.
      await provider(engine, providerName).destroy(hosts.map((host) => host.name), providerOutput(engine));
    }
    await forgetHosts(engine, selected);
    const left: Leftover[] = [];
    const involved = new Set([...byProvider(selected).keys(), ...(whole ? [whole.name] : [])]);
    for (const providerName of involved) {
      const chosen = provider(engine, providerName);
      if (!chosen.tidyUp) continue;
      const held = await chosen.tidyUp(providerOutput(engine));
      for (const item of held) engine.events.emit({ type: 'log', level: 'warn', message: `${providerName}: ${item.kind} ${item.id} is left: ${item.reason}` });
      if (held.length === 0) engine.events.emit({ type: 'log', level: 'info', message: `${providerName}: nothing of the project is left` });
      left.push(...held);
    }
    return { destroyed: selected.map((host) => host.name), left };
  });
}

/** Removes every trace pcc keeps of hosts that are gone or forgotten: pins, records, SSH entries, overlay peers, swarm nodes. */
export async function forgetHosts(engine: Engine, hosts: HostRecord[]): Promise<void> {
  const names = hosts.map((host) => host.name);
  const initGoes = hosts.some((host) => host.role === 'init');
  if (!initGoes) await removeNodes(engine, hosts);
  for (const name of names) {
    engine.ssh.close(name);
    await engine.knownHosts.forget(name);
  }
  await engine.state.update((state) => {
    for (const name of names) delete state.hosts[name];
    // A new init starts a new swarm; compute hosts join it at their next setup.
    if (initGoes) delete state.swarm;
  });
  for (const host of hosts) engine.events.emit({ type: 'host.state', host: host.name, provider: host.provider, state: 'gone' });
  await engine.sshConfig.writeHosts(engine.state.read().hosts);
  // The others drop these hosts from their peers, live.
  if (hosts.some((host) => host.overlay)) await syncOverlay(engine);
}

/** The images hosts were saved as (save --image), from every provider that has images. */
export async function listImages(engine: Engine): Promise<SavedImage[]> {
  const lists = await Promise.all([...engine.providers.values()].map((source) => source.images?.() ?? Promise.resolve([])));
  return lists.flat();
}

/** Deletes saved images; the hosts saved as them are gone with them. */
export async function removeImages(engine: Engine, ids: string[]): Promise<void> {
  await task(engine, 'images', `remove images ${ids.join(', ')}`, async () => {
    const images = await listImages(engine);
    for (const id of ids) {
      const image = images.find((candidate) => candidate.id === id);
      if (!image) throw new PccError(`${id} is not an image pcc saved for this project`, { hint: 'pcc images lists them.', exitCode: 2 });
      await provider(engine, image.provider).removeImage?.(id, providerOutput(engine));
    }
    await reconcile(engine);
  });
}

/**
 * Resumed overlay members may come back at another address: record it, then bring every member's
 * peers up to date (the resumed ones kept theirs on disk and may have missed joins and leaves).
 */
async function rejoinOverlay(engine: Engine, resumed: HostRecord[]): Promise<void> {
  const members = resumed.filter((host) => host.overlay?.peerId);
  if (members.length === 0) return;
  await engine.state.update((state) => {
    for (const { name } of members) {
      const record = state.hosts[name];
      const endpoint = record ? endpointOf(record, {}) : undefined;
      if (record?.overlay && endpoint) record.overlay.endpoint = endpoint;
    }
  });
  await syncOverlay(engine);
}

/**
 * A restarted or new init serves the project share with new file handles, so /project on the compute
 * hosts that kept running goes stale (or, should the new handles happen to match, names other files):
 * their share step mounts it again. Hosts in `except` were just set up and mounted it afresh.
 */
export async function mountShareAgain(engine: Engine, except: string[]): Promise<void> {
  const holders = Object.values(engine.state.read().hosts).filter(
    (host) => host.role === 'compute' && host.state === 'running' && !except.includes(host.name) && ['changed', 'unchanged'].includes(host.lastSetup?.steps['project-share'] ?? ''),
  );
  if (holders.length === 0) return;
  await setupHosts(engine, holders, `mount /project again on ${holders.map((host) => host.name).join(', ')}`, { steps: [projectShareAfterServerRestart] });
}

/** Refreshes a machine's SSH endpoint, connects (pinning or checking its key) and records it as running. */
async function connect(engine: Engine, chosen: Provider, name: string): Promise<HostRecord> {
  const endpoint = await chosen.sshEndpoint(name);
  const result = await engine.ssh.exec({ name, ...endpoint }, 'true');
  if (result.code !== 0) throw new PccError(`${name}: a first command over SSH failed (exit ${result.code}): ${result.stderr.trim()}`);
  return recordEndpoint(engine, name, endpoint);
}

function byProvider(hosts: HostRecord[]): Map<ProviderName, HostRecord[]> {
  const groups = new Map<ProviderName, HostRecord[]>();
  for (const host of hosts) groups.set(host.provider, [...(groups.get(host.provider) ?? []), host]);
  return groups;
}
