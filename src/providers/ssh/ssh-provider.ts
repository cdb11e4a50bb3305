import { existsSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from '../../core/config/load.js';
import { PccError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/files.js';
import { ensurePccKey } from '../../core/ssh-key.js';
import { ProviderError, type Machine, type Provider, type ProviderCapabilities, type SshEndpoint } from '../provider.js';

/** How long a machine's SSH server may take to greet pcc before the machine counts as unreachable. */
const REACH_TIMEOUT_MS = 1500;

const ownMachineSchema = z.object({
  name: z.string(),
  host: z.string(),
  port: z.number().int().min(1).max(65535),
  user: z.string(),
  computeType: z.enum(['cpu', 'gpu']),
  addedAt: z.string(),
});
export type OwnMachine = z.infer<typeof ownMachineSchema>;
const machinesSchema = z.array(ownMachineSchema);

/**
 * The user's own machines, reached over SSH (`pcc add ssh USER@HOST`): a lab server, a workstation, a
 * cluster node. pcc did not make them and does not power them: it lists them, reaches them with its
 * key once added, and forgets them on `pcc remove`. The list lives in the private state, beside the
 * pinned host keys.
 */
export class SshProvider implements Provider {
  readonly name = 'ssh' as const;
  readonly #config: Config;
  readonly #file: string;

  constructor(config: Config) {
    this.#config = config;
    this.#file = path.join(config.privateDir, 'ssh-machines.json');
  }

  capabilities(): ProviderCapabilities {
    return { canSuspend: false, existing: true };
  }

  machines(): OwnMachine[] {
    if (!existsSync(this.#file)) return [];
    const parsed = machinesSchema.safeParse(JSON.parse(readFileSync(this.#file, 'utf8')));
    if (!parsed.success) throw new PccError(`${this.#file} is not a list of machines pcc wrote: ${parsed.error.issues[0]?.message ?? ''}`, { hint: 'Restore it, or delete it and add your machines again (pcc add ssh).' });
    return parsed.data;
  }

  async list(): Promise<Machine[]> {
    return Promise.all(
      this.machines().map(async (machine) => ({
        name: machine.name,
        provider: this.name,
        role: 'compute' as const,
        computeType: machine.computeType,
        // Whether it answers is what pcc can know of a machine it does not power: it is never `gone`.
        state: (await reachable(machine.host, machine.port)) ? ('running' as const) : ('unreachable' as const),
        extras: {},
      })),
    );
  }

  /** Records a machine that pcc can now log in to with its key. */
  async add(machine: Omit<OwnMachine, 'addedAt'>): Promise<void> {
    const others = this.machines().filter((known) => known.name !== machine.name);
    await writeFileAtomic(this.#file, `${JSON.stringify([...others, { ...machine, addedAt: new Date().toISOString() }], null, 2)}\n`, 0o600);
  }

  /** Forgets machines; they are left running, as they were before pcc. */
  async forget(names: string[]): Promise<void> {
    await writeFileAtomic(this.#file, `${JSON.stringify(this.machines().filter((machine) => !names.includes(machine.name)), null, 2)}\n`, 0o600);
  }

  async up(): Promise<Machine[]> {
    throw new ProviderError('unsupported', 'the ssh provider makes no machines: it adds machines you already have', 'Add one: pcc add ssh USER@HOST[:PORT] [--name NAME].');
  }

  async start(names: string[]): Promise<void> {
    throw notPowered(names, 'resume');
  }

  async save(names: string[]): Promise<void> {
    throw notPowered(names, 'save');
  }

  async destroy(names: string[]): Promise<void> {
    throw new ProviderError('unsupported', `${names.join(', ')}: pcc does not destroy your own machines`, `pcc remove ${names[0] ?? 'NAME'} forgets one and takes pcc's things off it.`);
  }

  async sshEndpoint(name: string): Promise<SshEndpoint> {
    const machine = this.machines().find((known) => known.name === name);
    if (!machine) throw new ProviderError('not-found', `${name} is not one of your added machines`, 'pcc status lists them; pcc add ssh USER@HOST adds one.');
    return { host: machine.host, port: machine.port, user: machine.user, identityFile: ensurePccKey(this.#config.privateDir, `pcc-${this.#config.project.name}`).privateKeyFile };
  }
}

function notPowered(names: string[], action: string): ProviderError {
  return new ProviderError('unsupported', `cannot ${action} ${names.join(', ')}: pcc did not make your own machines and does not power them`, 'Power it on or off yourself; pcc status shows whether it answers.');
}

/**
 * Whether an SSH server answers at host:port within the timeout: it greets every connection with its
 * version line (`SSH-2.0-...`) before anything is sent. A bare TCP connect is not enough: some networks
 * (proxies, NAT boxes) accept connections to any address.
 */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(REACH_TIMEOUT_MS, () => done(false));
    socket.once('data', (chunk: Buffer) => done(chunk.subarray(0, 4).toString('latin1') === 'SSH-'));
    socket.once('error', () => done(false));
    socket.once('end', () => done(false));
    socket.connect(port, host);
  });
}
