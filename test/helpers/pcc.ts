import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { fleetImage } from './fleet.js';
import { makeProject, tempDir } from './project.js';

export const PCC_BIN = path.resolve('dist/cli/main.js');

/** A throw-away project on the fleet (Vagrant's docker backend) with its own HOME for ~/.ssh. */
export interface FleetProject {
  root: string;
  name: string;
  home: string;
  env: NodeJS.ProcessEnv;
}

export function makeFleetProject(label: string): FleetProject {
  const name = `t${label}${Math.random().toString(36).slice(2, 7)}`;
  const root = makeProject(
    {
      'project.env': `PROJECT_NAME=${name}\nVAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=${fleetImage()}\nREGISTRY_IMAGE=${process.env.REGISTRY_IMAGE}\nVARLIBDOCKER_GB=3\n`,
    },
    name,
  );
  const home = tempDir('pcc-home-');
  mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
  // The fleet's settings come from the project's files, not from the test runner's environment.
  const env = { ...process.env, HOME: home, VAGRANT_PROVIDER: undefined, VAGRANT_DOCKER_IMAGE: undefined, REGISTRY_IMAGE: undefined };
  return { root, name, home, env };
}

/**
 * A throw-away project on real-kernel VMs: Vagrant's libvirt backend with the fleet's box
 * (LIBVIRT_BOX). Vagrant keeps boxes in its own home, so that stays the runner's while HOME is new.
 */
export function makeLibvirtProject(label: string): FleetProject {
  const box = process.env.LIBVIRT_BOX;
  if (!box) throw new Error('LIBVIRT_BOX is unset: run the suite with `npm test` (fleet:up builds the box)');
  const name = `t${label}${Math.random().toString(36).slice(2, 7)}`;
  const root = makeProject(
    {
      'project.env': `PROJECT_NAME=${name}\nVAGRANT_PROVIDER=libvirt\nVAGRANT_BOX=${box}\nVAGRANT_MEMORY_MB=1536\nREGISTRY_IMAGE=${process.env.REGISTRY_IMAGE}\nVARLIBDOCKER_GB=3\n`,
    },
    name,
  );
  const home = tempDir('pcc-home-');
  mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
  const env = {
    ...process.env,
    HOME: home,
    VAGRANT_HOME: process.env.VAGRANT_HOME ?? path.join(os.homedir(), '.vagrant.d'),
    VAGRANT_PROVIDER: undefined,
    VAGRANT_DOCKER_IMAGE: undefined,
    REGISTRY_IMAGE: undefined,
    LIBVIRT_BOX: undefined,
  };
  return { root, name, home, env };
}

/** Removes every libvirt domain of a project and its disks, whatever state pcc or Vagrant left them in. */
export async function removeProjectDomains(project: FleetProject): Promise<void> {
  const virsh = (args: string[]) => execa('virsh', ['-c', 'qemu:///system', ...args], { reject: false });
  const { stdout } = await virsh(['list', '--all', '--name']);
  for (const domain of stdout.split('\n').filter((name) => name.startsWith(`pcc-${project.name}-`))) {
    await virsh(['destroy', domain]);
    await virsh(['undefine', domain, '--remove-all-storage']);
  }
}

/** Runs the built pcc binary in the project; resolves with its exit code and output (never rejects). */
export function pcc(project: FleetProject, args: string[]): ResultPromise<{ reject: false; stdin: 'ignore' }> {
  return execa('node', [PCC_BIN, ...args], { cwd: project.root, env: project.env, extendEnv: false, reject: false, stdin: 'ignore' });
}

/** Removes every machine container of a project, whatever state pcc or Vagrant left it in. */
export async function removeProjectContainers(project: FleetProject): Promise<void> {
  const { stdout } = await execa('docker', ['ps', '-aq', '--filter', `label=pcc.project=${project.name}`]);
  const ids = stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await execa('docker', ['rm', '-f', ...ids], { reject: false });
}

export async function projectContainers(project: FleetProject): Promise<string[]> {
  const { stdout } = await execa('docker', ['ps', '-a', '--format', '{{.Names}}', '--filter', `label=pcc.project=${project.name}`]);
  return stdout.split('\n').filter(Boolean).sort();
}

/** pcc's private state for the project: outside the project folder, under its home (`private-state.ts`). */
export function privateDirOf(project: FleetProject): string {
  const id = readFileSync(path.join(project.root, '.pcc', 'project-id'), 'utf8').trim();
  return path.join(project.home, '.local', 'state', 'pcc', 'projects', id);
}
