import picomatch from 'picomatch';
import { PccError } from '../core/errors.js';
import type { HostRecord } from './state.js';

/**
 * A host's groups, in the order its SSH aliases are written: provider, compute type, then the
 * provider's extras (EC2 instance type and id). `init` is a group of its own.
 */
export function hostGroups(host: Pick<HostRecord, 'provider' | 'computeType' | 'role' | 'extras'>): string[] {
  const groups = [host.provider, host.role === 'init' ? 'init' : host.computeType, ...Object.values(host.extras)];
  return [...new Set(groups.filter(Boolean))];
}

/**
 * Selects hosts by a pattern: comma-separated terms, each a host name, a group, or a glob (* ? [..])
 * matched against names and groups; `all` selects every host. A term that matches nothing is an
 * error, so a typo never acts on fewer hosts than meant.
 */
export function selectHosts<H extends HostRecord>(hosts: H[], pattern: string): H[] {
  const terms = pattern.split(',').map((term) => term.trim()).filter(Boolean);
  if (terms.length === 0) throw new PccError('empty host pattern', { hint: 'Name a host, a group (vagrant, cpu ...), a glob or all.', exitCode: 2 });
  const selected = new Set<H>();
  for (const term of terms) {
    const matchesTerm = picomatch(term);
    const matches = hosts.filter((host) => term === 'all' || [host.name, ...hostGroups(host)].some((candidate) => matchesTerm(candidate)));
    if (matches.length === 0) {
      const known = hosts.length === 0 ? 'there are no hosts' : `hosts: ${hosts.map((host) => host.name).join(', ')}`;
      throw new PccError(`pattern "${term}" matches no host (${known})`, {
        hint: 'Use a host name, a group (vagrant, ec2, cpu, gpu, init ...), a glob like vagrant*, or all. pcc status lists them.',
        exitCode: 2,
      });
    }
    for (const host of matches) selected.add(host);
  }
  return hosts.filter((host) => selected.has(host));
}
