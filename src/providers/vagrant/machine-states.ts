import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import type { Config } from '../../core/config/load.js';
import { parseSelfStop, SELF_STOP_FILE, type MachineState, type SelfStop } from '../provider.js';

/**
 * Machine states read from the backend itself, the way Vagrant reads them, without starting Vagrant
 * (about two seconds of Ruby per call): Vagrant keeps each machine's backend id in
 * `.vagrant/machines/NAME/BACKEND/id`; no id means the machine was never created (or was destroyed).
 * The id is then looked up in one call to the backend's own tool. Undefined means "cannot tell here":
 * the caller falls back to `vagrant status`.
 */
export async function readMachineStates(
  vagrantDir: string,
  backend: Config['vagrant']['backend'],
  names: string[],
  env: NodeJS.ProcessEnv,
): Promise<Map<string, MachineState> | undefined> {
  const states = new Map<string, MachineState>();
  const ids = new Map<string, string>();
  for (const name of names) {
    const id = machineId(vagrantDir, backend, name);
    if (id) ids.set(name, id);
    else states.set(name, 'not-created');
  }
  if (ids.size === 0) return states;
  const read = BACKEND_READERS[backend];
  const found = await read([...ids.values()], env).catch(() => undefined);
  if (!found) return undefined;
  for (const [name, id] of ids) states.set(name, found.get(id) ?? 'not-created');
  return states;
}

/** The backend's id of a machine, as Vagrant keeps it; empty when it was never created. */
export function machineId(vagrantDir: string, backend: Config['vagrant']['backend'], name: string): string {
  const idFile = path.join(vagrantDir, '.vagrant', 'machines', name, backend, 'id');
  return existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() : '';
}

/**
 * Why a docker-backend machine stopped itself, read from its stopped container's file (`docker cp`
 * writes a tar archive; the line is found in it as it is, text in a tar being stored plainly).
 */
export async function dockerSelfStop(id: string, env: NodeJS.ProcessEnv): Promise<SelfStop | undefined> {
  const result = await run('docker', ['cp', `${id}:${SELF_STOP_FILE}`, '-'], env);
  return result.exitCode === 0 ? parseSelfStop(result.stdout) : undefined;
}

type BackendReader = (ids: string[], env: NodeJS.ProcessEnv) => Promise<Map<string, MachineState> | undefined>;

/** One call of a backend's tool; node's own execFile, since loading execa would cost more than the call. */
const run = (file: string, args: string[], env: NodeJS.ProcessEnv) =>
  new Promise<{ exitCode: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { env, timeout: 10_000 }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code;
      resolve({ exitCode: error ? (typeof code === 'number' ? code : 127) : 0, stdout, stderr });
    });
  });

/** Docker's container states as Vagrant's docker backend names them: only a running container runs. */
const DOCKER_STATES: Record<string, MachineState> = {
  running: 'running',
  paused: 'saved',
  restarting: 'creating',
  created: 'stopped',
  exited: 'stopped',
  dead: 'stopped',
  removing: 'stopped',
};

const dockerStates: BackendReader = async (ids, env) => {
  // One inspect for every id; ids that no longer exist are reported on stderr and left out of stdout.
  const result = await run('docker', ['inspect', '--type', 'container', '--format', '{{.Id}} {{.State.Status}}', ...ids], env);
  if (result.exitCode !== 0 && !/no such (object|container)/i.test(result.stderr)) return undefined;
  const states = new Map<string, MachineState>();
  for (const line of result.stdout.split('\n')) {
    const [fullId, status] = line.trim().split(' ');
    const id = ids.find((candidate) => fullId?.startsWith(candidate));
    if (id && status) states.set(id, DOCKER_STATES[status] ?? 'unknown');
  }
  return states;
};

/** libvirt's domain states (`virsh domstate`); a paused domain is what vagrant-libvirt's suspend leaves. */
const LIBVIRT_STATES: Record<string, MachineState> = {
  running: 'running',
  paused: 'saved',
  pmsuspended: 'saved',
  'in shutdown': 'running',
  'shut off': 'stopped',
  crashed: 'stopped',
  blocked: 'running',
  idle: 'running',
};

const libvirtStates: BackendReader = async (ids, env) => {
  const uri = env.LIBVIRT_DEFAULT_URI ?? 'qemu:///system';
  const states = new Map<string, MachineState>();
  for (const id of ids) {
    const result = await run('virsh', ['-c', uri, 'domstate', id], env);
    if (result.exitCode !== 0) {
      if (/failed to get domain|domain not found/i.test(result.stderr)) continue;
      return undefined;
    }
    states.set(id, LIBVIRT_STATES[result.stdout.trim()] ?? 'unknown');
  }
  return states;
};

const VIRTUALBOX_STATES: Record<string, MachineState> = {
  running: 'running',
  saved: 'saved',
  paused: 'saved',
  poweroff: 'stopped',
  aborted: 'stopped',
  starting: 'creating',
  restoring: 'creating',
};

const virtualboxStates: BackendReader = async (ids, env) => {
  const states = new Map<string, MachineState>();
  for (const id of ids) {
    const result = await run('VBoxManage', ['showvminfo', id, '--machinereadable'], env);
    if (result.exitCode !== 0) {
      if (/could not find a registered machine/i.test(result.stderr)) continue;
      return undefined;
    }
    const state = /^VMState="([^"]+)"/m.exec(result.stdout)?.[1];
    states.set(id, (state === undefined ? undefined : VIRTUALBOX_STATES[state]) ?? 'unknown');
  }
  return states;
};

const BACKEND_READERS: Record<Config['vagrant']['backend'], BackendReader> = {
  docker: dockerStates,
  libvirt: libvirtStates,
  virtualbox: virtualboxStates,
};
