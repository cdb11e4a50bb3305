import { PccError } from '../core/errors.js';
import type { Engine } from './engine.js';
import { up } from './lifecycle.js';
import { reconcile } from './reconcile.js';
import { failureLines, setupHosts } from './setup/setup.js';
import type { HostRecord } from './state.js';

/**
 * Hosts brought up with `--spot --relaunch` that EC2 has interrupted get a replacement: a spot host of
 * the same provider, instance type and compute type, set up if the interrupted one was. pcc can do
 * this only when it runs (`pcc status`, the TUI's start), as the interruption is seen at a reconcile.
 * The interrupted host is left as it is: its disk keeps its data, and only EC2 can start it again.
 * Returns the hosts as they are afterwards.
 */
export async function relaunchInterrupted(engine: Engine, hosts: HostRecord[]): Promise<HostRecord[]> {
  const due = hosts.filter((host) => host.state === 'interrupted' && host.relaunch && !host.replacedBy);
  for (const host of due) {
    try {
      await replace(engine, host);
    } catch (error) {
      // Spot capacity is often still short right after an interruption: the next look tries again.
      engine.events.emit({ type: 'log', level: 'warn', host: host.name, message: `could not relaunch ${host.name}: ${(error as Error).message}; pcc tries again at its next look` });
    }
  }
  return due.length > 0 ? reconcile(engine) : hosts;
}

async function replace(engine: Engine, host: HostRecord): Promise<void> {
  engine.events.emit({ type: 'log', level: 'info', host: host.name, message: `${host.name} was interrupted: bringing up a spot replacement (--relaunch)` });
  const [replacement] = await up(engine, host.provider, {
    count: 1,
    computeType: host.computeType,
    ...(host.billing ? { machineType: host.billing.instanceType } : {}),
    spot: true,
    relaunch: true,
  });
  if (!replacement) throw new PccError(`the ${host.provider} provider brought up no machine`);
  await engine.state.update((state) => {
    const record = state.hosts[host.name];
    if (record) record.replacedBy = replacement.name;
  });
  engine.events.emit({ type: 'log', level: 'info', host: host.name, message: `${replacement.name} replaces ${host.name}; pcc destroy ${host.name} --yes when its disk is no longer needed (EC2 may start it again, and bill it)` });
  const record = engine.state.read().hosts[replacement.name];
  if (host.setupAt === undefined || !record) return;
  const summary = await setupHosts(engine, [record], `set up ${replacement.name}, the replacement of ${host.name}`);
  if (!summary.ok) {
    const message = `${replacement.name} is up, but its setup failed: ${failureLines(summary).join('; ')}; fix the cause, then run pcc setup ${replacement.name}`;
    engine.events.emit({ type: 'log', level: 'warn', host: replacement.name, message });
  }
}
