import type { Machine, Provider } from '../providers/provider.js';
import type { Engine } from './engine.js';
import { describeError, PccError } from '../core/errors.js';
import { checkHostFields, type HostRecord } from './state.js';

/** States of a machine that exists; one listed as not created after any of them was removed behind pcc's back. */
const EXISTED: ReadonlySet<HostRecord['state']> = new Set(['running', 'saved', 'stopped', 'interrupted', 'gone']);

/**
 * Makes state.json agree with the providers, which are the source of truth: machines pcc made but
 * did not record are adopted, recorded machines the provider no longer has (or lists as never
 * created, as Vagrant does after a `vagrant destroy` by hand) are marked gone, and running machines
 * without a known address (pcc was killed during `up`) get theirs.
 */
export async function reconcile(engine: Engine): Promise<HostRecord[]> {
  const listed = (await Promise.all([...engine.providers.values()].map((source) => listMachines(engine, source)))).filter((entry) => entry !== undefined);
  const changes: HostRecord[] = [];
  const unaddressed: { provider: Provider; name: string }[] = [];
  const stoppedByThemselves: { provider: Provider; name: string }[] = [];
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
          if (machine.state === 'running') unaddressed.push({ provider: source, name: machine.name });
          engine.events.emit({ type: 'log', level: 'warn', message: `adopted: ${source.name} has it but pcc had no record of it`, host: machine.name });
          continue;
        }
        const observed = machine.state === 'not-created' && EXISTED.has(known.state) ? 'gone' : machine.state;
        if (known.state !== observed || !sameExtras(known.extras, machine.extras) || (machine.privateAddress !== undefined && known.privateAddress !== machine.privateAddress)) {
          // Running when pcc last looked and off now, without pcc: it may have stopped itself (idle stop, a spot notice).
          if (known.state === 'running' && (observed === 'stopped' || observed === 'saved' || observed === 'interrupted')) stoppedByThemselves.push({ provider: source, name: machine.name });
          if (observed === 'running') delete known.selfStop;
          known.state = observed;
          known.extras = machine.extras;
          if (machine.privateAddress !== undefined) known.privateAddress = machine.privateAddress;
          known.updatedAt = now;
          changes.push(known);
        }
        // What it bills for (a disk grown, a new start time) changes no state worth an event.
        if (JSON.stringify(known.billing) !== JSON.stringify(machine.billing)) {
          if (machine.billing) known.billing = machine.billing;
          else delete known.billing;
          known.updatedAt = now;
        }
        if (observed === 'running' && !known.ssh) unaddressed.push({ provider: source, name: machine.name });
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
  await recordSelfStops(engine, stoppedByThemselves);
  for (const host of changes) emitState(engine, engine.state.read().hosts[host.name] ?? host);
  // A running machine gets its SSH endpoint, so it is reachable and listed in ssh config.
  for (const { provider: source, name } of unaddressed) {
    try {
      await recordEndpoint(engine, name, await source.sshEndpoint(name));
    } catch (error) {
      // One machine not answering yet must not stop pcc from listing the others.
      engine.events.emit({ type: 'log', level: 'warn', message: `no SSH address yet: ${(error as Error).message}`, host: name });
    }
  }
  if (changes.length > 0 || unaddressed.length > 0) await engine.sshConfig.writeHosts(engine.state.read().hosts);
  return Object.values(engine.state.read().hosts);
}

/** Records why hosts stopped themselves, where their provider can tell; a provider that cannot answer leaves it unknown. */
async function recordSelfStops(engine: Engine, stopped: { provider: Provider; name: string }[]): Promise<void> {
  const found = await Promise.all(stopped.map(async ({ provider, name }) => ({ name, stop: await provider.selfStop?.(name).catch(() => undefined) })));
  if (!found.some(({ stop }) => stop)) return;
  await engine.state.update((state) => {
    for (const { name, stop } of found) {
      const record = state.hosts[name];
      if (record && stop) record.selfStop = stop;
    }
  });
}

/**
 * One provider's machines; a provider that cannot answer (AWS unreachable, Docker stopped) is a
 * warning, and its hosts stay as last recorded, so the other providers' hosts can still be worked on.
 */
async function listMachines(engine: Engine, source: Provider): Promise<{ provider: Provider; machines: Machine[] } | undefined> {
  try {
    return { provider: source, machines: acceptable(engine, source, await source.list()) };
  } catch (error) {
    engine.events.emit({ type: 'log', level: 'warn', message: `${source.name} did not answer; its hosts are shown as last recorded: ${describeError(error).replace(/\n\s*/g, ' — ')}` });
    return undefined;
  }
}

/**
 * The machines whose names and extras may be written to state and ssh config; any other (a tampered
 * EC2 tag) is left out with a warning, so it can neither inject an option nor break pcc for the rest.
 */
function acceptable(engine: Engine, source: Provider, machines: Machine[]): Machine[] {
  return machines.filter((machine) => {
    try {
      checkHostFields(machine, source.name);
      return true;
    } catch (error) {
      engine.events.emit({ type: 'log', level: 'warn', message: `left out: ${(error as Error).message}` });
      return false;
    }
  });
}

export async function recordEndpoint(engine: Engine, name: string, endpoint: NonNullable<HostRecord['ssh']>): Promise<HostRecord> {
  const host = await engine.state.update((state) => {
    const record = state.hosts[name];
    if (!record) throw new PccError(`${name} vanished from state while pcc was working on it`);
    record.ssh = endpoint;
    record.state = 'running';
    delete record.selfStop;
    record.updatedAt = new Date().toISOString();
    return record;
  });
  emitState(engine, host);
  return host;
}

export function recordOf(machine: Machine, now: string): HostRecord {
  return {
    name: machine.name,
    provider: machine.provider,
    role: machine.role,
    computeType: machine.computeType,
    state: machine.state,
    extras: machine.extras,
    ...(machine.privateAddress ? { privateAddress: machine.privateAddress } : {}),
    ...(machine.billing ? { billing: machine.billing } : {}),
    createdAt: now,
    updatedAt: now,
  };
}

export function emitState(engine: Engine, host: HostRecord): void {
  engine.events.emit({
    type: 'host.state',
    host: host.name,
    provider: host.provider,
    state: host.state,
    ...(host.ssh ? { address: `${host.ssh.host}:${host.ssh.port}` } : {}),
    ...(host.selfStop ? { stopReason: host.selfStop.reason } : {}),
  });
}

function sameExtras(a: Record<string, string>, b: Record<string, string>): boolean {
  return JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
}

