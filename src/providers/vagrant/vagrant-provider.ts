import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import SSHConfig from 'ssh-config';
import { z } from 'zod';
import { readAsset } from '../../core/assets.js';
import type { Config } from '../../core/config/load.js';
import { withFileLock, writeFileAtomic } from '../../core/files.js';
import {
  INIT_FOLDERS,
  ProviderError,
  type ComputeType,
  type Machine,
  type MachineRole,
  type MachineState,
  type Provider,
  type ProviderCapabilities,
  type ProviderOutput,
  type SelfStop,
  type SshEndpoint,
  type UpRequest,
} from '../provider.js';
import { chosenAcceleration, type LibvirtDriver } from './libvirt-acceleration.js';
import { machineContainerArgs } from './machine-container.js';
import { NFS_SUDO_HINT, nfsSudoReady } from './nfs-sudo.js';
import { errorMessages, machineStates, parseMachineReadable } from './machine-readable.js';
import { dockerSelfStop, machineId, readMachineStates } from './machine-states.js';

/** What the generated Vagrantfile reads: the backend's settings and the machines pcc defined. */
interface MachinesSpec {
  project: string;
  backend: Config['vagrant']['backend'];
  box: string;
  cpus: number;
  memoryMb: number;
  docker: { image: string | undefined; createArgs: string[] };
  libvirt: { driver: LibvirtDriver };
  syncedFolderType: string | null;
  machines: { name: string; role: MachineRole; computeType: ComputeType; syncedFolders?: { host: string; guest: string }[] }[];
}

/** init's machines get folders from this machine (the project, the registry volume). */
const hasSyncedFolders = (machine: MachinesSpec['machines'][number]) => (machine.syncedFolders?.length ?? 0) > 0;

const MACHINE_LIST = z.object({
  machines: z.array(
    z.object({
      name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'expected a machine name'),
      role: z.enum(['init', 'compute']),
      computeType: z.enum(['cpu', 'gpu']),
    }),
  ),
});

const STATES: Record<string, MachineState> = {
  running: 'running',
  saved: 'saved',
  paused: 'saved',
  suspended: 'saved',
  poweroff: 'stopped',
  stopped: 'stopped',
  aborted: 'stopped',
  shutoff: 'stopped',
  not_created: 'not-created',
  preparing: 'creating',
};

/**
 * Local machines through the real `vagrant` CLI. pcc owns the Vagrantfile in its private state (`vagrant/`); the
 * machines it defines are listed in machines.json beside it, written before any machine is made, so
 * Vagrant (the source of truth) knows every machine even if pcc is killed half-way.
 */
export class VagrantProvider implements Provider {
  readonly name = 'vagrant' as const;
  readonly dir: string;
  readonly #config: Config;
  readonly #env: NodeJS.ProcessEnv;
  /** The libvirt domain type new machines get, settled before the first `vagrant up`. */
  #libvirtDriver: LibvirtDriver = 'kvm';

  constructor(config: Config, env: NodeJS.ProcessEnv) {
    this.#config = config;
    this.#env = env;
    this.dir = path.join(config.privateDir, 'vagrant');
  }

  capabilities(): ProviderCapabilities {
    // Vagrant's docker backend raises SuspendNotSupported: save powers the machine off instead.
    return { canSuspend: this.#config.vagrant.backend !== 'docker' };
  }

  async list(): Promise<Machine[]> {
    const spec = this.#readSpec();
    if (spec.machines.length === 0) return [];
    const names = spec.machines.map((machine) => machine.name);
    const states = (await readMachineStates(this.dir, this.#config.vagrant.backend, names, this.#env)) ?? (await this.#vagrantStates());
    return spec.machines.map((machine) => this.#machine(machine, states.get(machine.name) ?? 'unknown'));
  }

  /** What `vagrant status` says: slow (Vagrant loads every plugin), so only where the backend cannot be asked directly. */
  async #vagrantStates(): Promise<Map<string, MachineState>> {
    const { stdout } = await this.#vagrant(['status', '--machine-readable'], undefined);
    const states = new Map<string, MachineState>();
    for (const [name, state] of machineStates(parseMachineReadable(stdout))) states.set(name, STATES[state] ?? 'unknown');
    return states;
  }

  async up(request: UpRequest, output: ProviderOutput): Promise<Machine[]> {
    const role = request.role ?? 'compute';
    if (role === 'init') await this.#checkNfsSudo();
    const planned = await this.#updateSpec((spec) => {
      const taken = new Set(spec.machines.map((machine) => machine.name));
      const names: string[] = [];
      if (role === 'init') {
        if (!taken.has('init')) names.push('init');
      } else {
        for (let index = 1; names.length < request.count; index++) {
          if (!taken.has(`vagrant${index}`)) names.push(`vagrant${index}`);
        }
      }
      const added = names.map((name) => this.#defined({ name, role, computeType: request.computeType }));
      spec.machines.push(...added);
      return added;
    });
    if (role === 'init') mkdirSync(path.join(this.#config.stateDir, 'registry'), { recursive: true });
    const machines = planned.map((machine) => this.#machine(machine, 'creating'));
    await request.onPlanned?.(machines);
    if (planned.length > 0) await this.start(planned.map((machine) => machine.name), output);
    return machines.map((machine) => ({ ...machine, state: 'running' }));
  }

  async start(names: string[], output: ProviderOutput): Promise<void> {
    if (this.#readSpec().machines.some((machine) => names.includes(machine.name) && hasSyncedFolders(machine))) await this.#checkNfsSudo();
    if (this.#config.vagrant.backend === 'libvirt') {
      const acceleration = await chosenAcceleration(this.#config.vagrant.libvirtDriver, this.#env);
      this.#libvirtDriver = acceleration.driver;
      if (acceleration.driver === 'qemu') output(`libvirt: TCG, ${acceleration.reason}: new machines run under software emulation`);
    }
    await this.#vagrant(['up', '--provider', this.#config.vagrant.backend, ...names], output);
  }

  async save(names: string[], output: ProviderOutput): Promise<void> {
    await this.#vagrant([this.capabilities().canSuspend ? 'suspend' : 'halt', ...names], output);
  }

  async destroy(names: string[], output: ProviderOutput): Promise<void> {
    // Vagrant refuses names its Vagrantfile does not define; those are gone already.
    const known = this.#readSpec().machines.filter((machine) => names.includes(machine.name));
    if (known.some(hasSyncedFolders)) await this.#checkNfsSudo();
    if (known.length > 0) await this.#vagrant(['destroy', '--force', ...known.map((machine) => machine.name)], output);
    const gone = new Set(names);
    await this.#updateSpec((spec) => {
      spec.machines = spec.machines.filter((machine) => !gone.has(machine.name));
    });
  }

  /** Only the docker backend's stopped machines can be read; on others the reason is not known here. */
  async selfStop(name: string): Promise<SelfStop | undefined> {
    if (this.#config.vagrant.backend !== 'docker') return undefined;
    const id = machineId(this.dir, 'docker', name);
    return id ? dockerSelfStop(id, this.#env) : undefined;
  }

  async sshEndpoint(name: string): Promise<SshEndpoint> {
    const { stdout } = await this.#vagrant(['ssh-config', name], undefined);
    const computed = SSHConfig.parse(stdout).compute(name);
    const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
    const host = first(computed.HostName);
    const identityFile = first(computed.IdentityFile);
    if (!host || !identityFile) {
      throw new ProviderError('command-failed', `vagrant ssh-config ${name} gave no HostName or IdentityFile`, 'Check that the machine is running: pcc status.');
    }
    return {
      host,
      port: Number(first(computed.Port) ?? 22),
      user: first(computed.User) ?? 'vagrant',
      identityFile: identityFile.replace(/^"|"$/g, ''),
    };
  }

  #machine(machine: MachinesSpec['machines'][number], state: MachineState): Machine {
    return { name: machine.name, provider: 'vagrant', role: machine.role, computeType: machine.computeType, state, extras: {} };
  }

  /** Refuses before Vagrant starts when its NFS export would stop at a sudo password prompt. */
  async #checkNfsSudo(): Promise<void> {
    if (this.#config.vagrant.syncedFolderType !== 'nfs' || (await nfsSudoReady(this.#env))) return;
    throw new ProviderError('misconfigured', "init gets the project folder over NFS from this machine, for which Vagrant runs sudo, and sudo would ask for a password", NFS_SUDO_HINT);
  }

  /** Whether machines.json holds exactly what pcc would write (nothing added behind its back). */
  #specIsOwn(): boolean {
    if (!existsSync(this.#specFile)) return false;
    return readFileSync(this.#specFile, 'utf8') === `${JSON.stringify(this.#readSpec(), null, 2)}\n`;
  }

  get #specFile(): string {
    return path.join(this.dir, 'machines.json');
  }

  /**
   * A machine as the Vagrantfile gets it. Only its name, role and type come from machines.json; the
   * rest is derived here, so an edit of that file (by root on init, which syncs the project folder)
   * cannot add folders or docker flags: the controller gets the project folder (the /project share)
   * and the registry volume's folder, compute machines nothing.
   */
  #defined(machine: { name: string; role: MachineRole; computeType: ComputeType }): MachinesSpec['machines'][number] {
    const syncedFolders =
      machine.role === 'init'
        ? [
            { host: this.#config.root, guest: INIT_FOLDERS.project },
            { host: path.join(this.#config.stateDir, 'registry'), guest: INIT_FOLDERS.registry },
          ]
        : undefined;
    return { name: machine.name, role: machine.role, computeType: machine.computeType, ...(syncedFolders ? { syncedFolders } : {}) };
  }

  #readSpec(): MachinesSpec {
    const config = this.#config;
    const machines = existsSync(this.#specFile) ? this.#machinesIn(readFileSync(this.#specFile, 'utf8')).map((machine) => this.#defined(machine)) : [];
    return {
      project: config.project.name,
      backend: config.vagrant.backend,
      box: config.vagrant.box,
      cpus: config.vagrant.cpus,
      memoryMb: config.vagrant.memoryMb,
      docker: { image: config.vagrant.dockerImage, createArgs: config.vagrant.backend === 'docker' ? machineContainerArgs() : [] },
      libvirt: { driver: this.#libvirtDriver },
      syncedFolderType: config.vagrant.syncedFolderType ?? null,
      machines,
    };
  }

  /** Read-modify-write of machines.json under a lock; also (re)writes the Vagrantfile. */
  async #updateSpec<T>(change: (spec: MachinesSpec) => T): Promise<T> {
    return withFileLock(this.#specFile, async () => {
      const spec = this.#readSpec();
      const result = change(spec);
      await writeFileAtomic(path.join(this.dir, 'Vagrantfile'), readAsset('src/providers/vagrant/Vagrantfile'));
      await writeFileAtomic(this.#specFile, `${JSON.stringify(spec, null, 2)}\n`);
      return result;
    });
  }

  /** The machine list of machines.json, checked: anything else there is ignored. */
  #machinesIn(text: string): { name: string; role: MachineRole; computeType: ComputeType }[] {
    const parsed = MACHINE_LIST.safeParse(JSON.parse(text));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ProviderError('misconfigured', `${this.#specFile} is malformed: ${issue?.path.join('.')}: ${issue?.message}`, 'pcc writes this file; restore it, or remove the machines it lists with pcc destroy.');
    }
    return parsed.data.machines;
  }

  async #vagrant(args: string[], output: ProviderOutput | undefined): Promise<{ stdout: string }> {
    // Vagrant runs the Vagrantfile as Ruby on this machine: it is always pcc's own, rewritten with the spec before each run.
    const ownVagrantfile = readAsset('src/providers/vagrant/Vagrantfile');
    const vagrantfile = path.join(this.dir, 'Vagrantfile');
    if (!existsSync(vagrantfile) || readFileSync(vagrantfile, 'utf8') !== ownVagrantfile || !this.#specIsOwn()) await this.#updateSpec(() => undefined);
    // Loaded here: most commands never start Vagrant (machine states come from the backend itself).
    const { execa } = await import('execa');
    const subprocess = execa('vagrant', [...args, '--no-color'], {
      cwd: this.dir,
      env: { ...this.#env, VAGRANT_CHECKPOINT_DISABLE: '1', VAGRANT_DEFAULT_PROVIDER: this.#config.vagrant.backend },
      extendEnv: false,
      stdin: 'ignore',
      reject: false,
      all: true,
      lines: false,
    });
    if (output) {
      subprocess.all?.on(
        'data',
        lineSplitter((line) => {
          const attributed = attributeLine(line);
          output(attributed.text, attributed.machine);
        }),
      );
    }
    const result = await subprocess;
    if (result.failed && result.exitCode === undefined) {
      if ((result as { code?: string }).code === 'ENOENT') {
        throw new ProviderError('not-installed', 'vagrant is not installed', 'Install it: apt-get install vagrant (then run pcc doctor).');
      }
      throw new ProviderError('command-failed', `vagrant ${args[0]} could not run: ${result.message}`);
    }
    if (result.exitCode !== 0) {
      const detail = errorMessages(parseMachineReadable(result.stdout)).join('\n') || tail(result.all ?? '', 12);
      throw new ProviderError('command-failed', `vagrant ${args.join(' ')} failed (exit ${result.exitCode}):\n${detail}`,
        `Its whole output is in the hosts' logs (pcc logs HOST); Vagrant's files are in ${this.dir}.`);
    }
    return { stdout: result.stdout };
  }
}

/** Vagrant prefixes machine output with `==> name: ` or `    name: `; the prefix names the machine. */
function attributeLine(line: string): { machine?: string; text: string } {
  const match = /^(==>|\s{4})\s*([A-Za-z0-9_-]+): ?(.*)$/.exec(line);
  if (!match) return { text: line };
  return { machine: match[2], text: match[1] === '==>' ? `==> ${match[3]}` : (match[3] ?? '') };
}

/**
 * Splits output into lines as a terminal shows them: a carriage return overwrites the line (Vagrant's
 * progress counters, thousands of them while a box uploads), so only what follows the last one stays.
 */
export function lineSplitter(onLine: (line: string) => void): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const shown = line.replace(/\x1b\[K/g, '').split('\r').filter((part) => part.trim() !== '').pop();
      if (shown !== undefined) onLine(shown);
    }
  };
}

function tail(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}
