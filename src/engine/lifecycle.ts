import type { ComputeType, Machine, MachineRole, Provider, ProviderName, ProviderOutput } from '../providers/provider.js';
import type { Engine } from './engine.js';
import { PccError } from './errors.js';
import { hostGroups, selectHosts } from './inventory.js';
import { endpointOf, syncOverlay } from './overlay/overlay.js';
import type { SshTarget } from './ssh/pool.js';
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
}

export function viewOf(host: HostRecord): HostView {
  return {
    name: host.name,
    provider: host.provider,
    role: host.role,
    computeType: host.computeType,
    groups: hostGroups(host),
    state: host.state,
    address: host.ssh ? `${host.ssh.host}:${host.ssh.port}` : undefined,
  };
}

function provider(engine: Engine, name: ProviderName): Provider {
  const found = engine.providers.get(name);
  if (!found) throw new PccError(`the ${name} provider is not available in this version of pcc`, { hint: 'Use the vagrant provider.', exitCode: 2 });
  return found;
}

/** Routes a provider's output line into the machine's log (or the general log) and the event stream. */
function providerOutput(engine: Engine): ProviderOutput {
  return (line, machine) => {
    if (machine) {
      engine.logs.append(machine, line);
      engine.events.emit({ type: 'host.output', host: machine, stream: 'stdout', line });
    } else {
      engine.events.emit({ type: 'log', level: 'info', message: line });
    }
  };
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

/**
 * Makes state.json agree with the providers, which are the source of truth: machines pcc made but
 * did not record are adopted, recorded machines the provider no longer has are marked gone.
 */
export async function reconcile(engine: Engine): Promise<HostRecord[]> {
  const listed = await Promise.all([...engine.providers.values()].map(async (p) => ({ provider: p, machines: await p.list() })));
  const changes: HostRecord[] = [];
  const adopted: { provider: Provider; name: string }[] = [];
  await engine.state.update((state) => {
    const now = new Date().toISOString();
    for (const { provider: source, machines } of listed) {
      const present = new Set(machines.map((machine) => machine.name));
      for (const machine of machines) {
        const known = state.hosts[machine.name];
        if (!known) {
          const record = recordOf(machine, now);
          state.hosts[machine.name] = record;
          changes.push(record);
          if (machine.state === 'running') adopted.push({ provider: source, name: machine.name });
          engine.events.emit({ type: 'log', level: 'warn', message: `adopted: ${source.name} has it but pcc had no record of it`, host: machine.name });
        } else if (known.state !== machine.state) {
          known.state = machine.state;
          known.updatedAt = now;
          changes.push(known);
        }
      }
      for (const known of Object.values(state.hosts)) {
        if (known.provider === source.name && !present.has(known.name) && known.state !== 'gone') {
          known.state = 'gone';
          known.updatedAt = now;
          changes.push(known);
        }
      }
    }
  });
  for (const host of changes) emitState(engine, host);
  // An adopted machine that runs gets its SSH endpoint, so it is reachable and listed in ssh config.
  for (const { provider: source, name } of adopted) await recordEndpoint(engine, name, await source.sshEndpoint(name));
  if (changes.length > 0) await writeSshConfig(engine);
  return Object.values(engine.state.read().hosts);
}

export interface UpOptions {
  count: number;
  computeType: ComputeType;
  /** `init` brings up the controller (one machine named init). */
  role?: MachineRole;
}

/** Brings up `count` new machines, waits for SSH, pins their keys and writes their ssh config entries. */
export async function up(engine: Engine, providerName: ProviderName, options: UpOptions): Promise<HostView[]> {
  const chosen = provider(engine, providerName);
  const title = options.role === 'init' ? 'bring up init' : `bring up ${options.count} ${providerName} machine(s)`;
  return task(engine, 'up', title, async () => {
    await reconcile(engine);
    const machines = await chosen.up(
      {
        count: options.count,
        computeType: options.computeType,
        ...(options.role ? { role: options.role } : {}),
        onPlanned: async (planned) => {
          // A machine pcc (re-)creates gets a fresh pin.
          for (const machine of planned) await engine.knownHosts.forget(machine.name);
          const now = new Date().toISOString();
          await engine.state.update((state) => {
            for (const machine of planned) state.hosts[machine.name] = recordOf(machine, now);
          });
          for (const machine of planned) emitState(engine, { ...recordOf(machine, now) });
        },
      },
      providerOutput(engine),
    );
    const hosts = await Promise.all(machines.map((machine) => connect(engine, chosen, machine.name)));
    await writeSshConfig(engine);
    return hosts.map(viewOf);
  });
}

/** Saves the selected running hosts (suspend, or power off where the provider cannot suspend). */
export async function save(engine: Engine, pattern: string): Promise<HostView[]> {
  return task(engine, 'save', `save ${pattern}`, async () => {
    const selected = selectHosts(await reconcile(engine), pattern).filter((host) => host.state === 'running');
    for (const [providerName, hosts] of byProvider(selected)) {
      const names = hosts.map((host) => host.name);
      for (const name of names) engine.ssh.close(name);
      await provider(engine, providerName).save(names, providerOutput(engine));
    }
    const after = await reconcile(engine);
    return after.filter((host) => selected.some((s) => s.name === host.name)).map(viewOf);
  });
}

/** Starts the selected saved or stopped hosts, refreshes their addresses and SSH entries. */
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
    await writeSshConfig(engine);
    await rejoinOverlay(engine, results);
    return results.map(viewOf);
  });
}

/** Destroys the selected hosts and removes every trace pcc keeps of them. */
export async function destroy(engine: Engine, pattern: string): Promise<string[]> {
  return task(engine, 'destroy', `destroy ${pattern}`, async () => {
    const selected = selectHosts(await reconcile(engine), pattern);
    for (const [providerName, hosts] of byProvider(selected)) {
      for (const host of hosts) engine.ssh.close(host.name);
      const existing = hosts.filter((host) => host.state !== 'gone').map((host) => host.name);
      if (existing.length > 0) await provider(engine, providerName).destroy(existing, providerOutput(engine));
    }
    const names = selected.map((host) => host.name);
    for (const name of names) await engine.knownHosts.forget(name);
    await engine.state.update((state) => {
      for (const name of names) delete state.hosts[name];
    });
    for (const host of selected) engine.events.emit({ type: 'host.state', host: host.name, provider: host.provider, state: 'gone' });
    await writeSshConfig(engine);
    // The others drop the destroyed hosts from their peers, live.
    if (selected.some((host) => host.overlay)) await syncOverlay(engine);
    return names;
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

/** The SSH target of a host pcc can reach. */
export function sshTarget(host: HostRecord): SshTarget {
  if (!host.ssh) throw new PccError(`${host.name} has no known SSH address (state ${host.state})`, { hint: `Resume it: pcc resume ${host.name}.` });
  return { name: host.name, ...host.ssh };
}

/** Refreshes a machine's SSH endpoint, connects (pinning or checking its key) and records it as running. */
async function connect(engine: Engine, chosen: Provider, name: string): Promise<HostRecord> {
  const endpoint = await chosen.sshEndpoint(name);
  const result = await engine.ssh.exec({ name, ...endpoint }, 'true');
  if (result.code !== 0) throw new PccError(`${name}: a first command over SSH failed (exit ${result.code}): ${result.stderr.trim()}`);
  return recordEndpoint(engine, name, endpoint);
}

async function recordEndpoint(engine: Engine, name: string, endpoint: NonNullable<HostRecord['ssh']>): Promise<HostRecord> {
  const host = await engine.state.update((state) => {
    const record = state.hosts[name];
    if (!record) throw new PccError(`${name} vanished from state while pcc was working on it`);
    record.ssh = endpoint;
    record.state = 'running';
    record.updatedAt = new Date().toISOString();
    return record;
  });
  emitState(engine, host);
  return host;
}

/** Rewrites pcc's ssh config file from state: every host with an address that still exists. */
export async function writeSshConfig(engine: Engine): Promise<void> {
  const hosts = Object.values(engine.state.read().hosts).filter(
    (host) => host.ssh && host.state !== 'gone' && host.state !== 'not-created',
  );
  await engine.sshConfig.write(
    hosts.map((host) => ({
      name: host.name,
      aliases: hostGroups(host).map((group) => `${group}-${host.name}`),
      ...(host.ssh as NonNullable<HostRecord['ssh']>),
    })),
  );
}

function recordOf(machine: Machine, now: string): HostRecord {
  return {
    name: machine.name,
    provider: machine.provider,
    role: machine.role,
    computeType: machine.computeType,
    state: machine.state,
    extras: machine.extras,
    createdAt: now,
    updatedAt: now,
  };
}

function emitState(engine: Engine, host: HostRecord): void {
  engine.events.emit({
    type: 'host.state',
    host: host.name,
    provider: host.provider,
    state: host.state,
    ...(host.ssh ? { address: `${host.ssh.host}:${host.ssh.port}` } : {}),
  });
}

function byProvider(hosts: HostRecord[]): Map<ProviderName, HostRecord[]> {
  const groups = new Map<ProviderName, HostRecord[]>();
  for (const host of hosts) groups.set(host.provider, [...(groups.get(host.provider) ?? []), host]);
  return groups;
}
