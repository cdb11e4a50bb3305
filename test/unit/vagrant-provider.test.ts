import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { ProviderError } from '../../src/providers/provider.js';
import { VagrantProvider } from '../../src/providers/vagrant/vagrant-provider.js';
import { makeProject, tempDir } from '../helpers/project.js';

describe('Vagrant provider without vagrant', () => {
  it('says vagrant is missing and how to install it, after recording the planned machines', async () => {
    const root = makeProject({ 'project.env': 'PROJECT_NAME=nov\nVAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=machine:1\n' });
    const config = loadConfig(root, {});
    const provider = new VagrantProvider(config, { PATH: '/nonexistent' });
    const planned: string[] = [];
    const attempt = provider.up({ count: 2, computeType: 'cpu', onPlanned: async (machines) => void planned.push(...machines.map((m) => m.name)) }, () => undefined);
    await expect(attempt).rejects.toBeInstanceOf(ProviderError);
    await expect(attempt).rejects.toThrow('vagrant is not installed');
    await expect(attempt).rejects.toMatchObject({ code: 'not-installed', hint: expect.stringContaining('apt-get install vagrant') });
    expect(planned).toEqual(['vagrant1', 'vagrant2']);

    const dir = path.join(config.privateDir, 'vagrant');
    expect(existsSync(path.join(dir, 'Vagrantfile'))).toBe(true);
    const spec = JSON.parse(readFileSync(path.join(dir, 'machines.json'), 'utf8'));
    expect(spec).toMatchObject({ project: 'nov', backend: 'docker', docker: { image: 'machine:1' } });
    expect(spec.machines).toEqual([
      { name: 'vagrant1', role: 'compute', computeType: 'cpu' },
      { name: 'vagrant2', role: 'compute', computeType: 'cpu' },
    ]);
    expect(spec.docker.createArgs).toEqual(expect.arrayContaining(['--cap-add', 'SYS_ADMIN', '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw']));
    expect(spec.docker.createArgs).not.toContain('--privileged');
  });

  it('cannot suspend on the docker backend, and can on virtualbox', () => {
    const docker = new VagrantProvider(loadConfig(makeProject({ 'project.env': 'VAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=m\n' }), {}), {});
    const virtualbox = new VagrantProvider(loadConfig(makeProject({}), {}), {});
    expect(docker.capabilities().canSuspend).toBe(false);
    expect(virtualbox.capabilities().canSuspend).toBe(true);
  });
});

describe('init over NFS synced folders, not as root', () => {
  afterEach(() => vi.restoreAllMocks());

  it('refuses before anything is planned when sudo would ask for a password; goes on when it would not', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    // A sudo that answers as a real one does for a user without password-less rules (exit 1), then one that allows.
    const bin = tempDir('pcc-bin-');
    const sudo = (code: number) => writeFileSync(path.join(bin, 'sudo'), `#!/bin/sh\nexit ${code}\n`, { mode: 0o755 });
    const root = makeProject({ 'project.env': 'PROJECT_NAME=nfs\nVAGRANT_PROVIDER=virtualbox\n' });
    const config = loadConfig(root, {});
    const provider = new VagrantProvider(config, { PATH: bin });
    const upInit = () => provider.up({ count: 1, computeType: 'cpu', role: 'init' }, () => undefined);

    sudo(1);
    await expect(upInit()).rejects.toMatchObject({ code: 'misconfigured', message: expect.stringContaining('sudo would ask for a password'), hint: expect.stringContaining('VAGRANT_SYNCED_FOLDER_TYPE=rsync') });
    expect(existsSync(path.join(config.privateDir, 'vagrant', 'machines.json'))).toBe(false);

    sudo(0);
    await expect(upInit()).rejects.toThrow('vagrant is not installed');
  });
});

describe('the Vagrantfile Vagrant runs is the one pcc generated', () => {
  it('puts its own Vagrantfile and machine list back before running vagrant, whatever was written there', async () => {
    const root = makeProject({ 'project.env': 'PROJECT_NAME=own\nVAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=machine:1\n' });
    // A vagrant that records the files it would run, then exits.
    const bin = tempDir('pcc-bin-');
    const seen = path.join(bin, 'seen');
    writeFileSync(path.join(bin, 'vagrant'), `#!/bin/sh\ncat Vagrantfile machines.json > ${seen}\nexit 0\n`, { mode: 0o755 });
    const config = loadConfig(root, {});
    const provider = new VagrantProvider(config, { PATH: `${bin}:/usr/bin:/bin` });
    await provider.up({ count: 1, computeType: 'cpu' }, () => undefined);
    // Outside the project folder, which init can write through its synced folder.
    const dir = path.join(config.privateDir, 'vagrant');
    expect(path.relative(root, dir).startsWith('..')).toBe(true);
    const own = { vagrantfile: readFileSync(path.join(dir, 'Vagrantfile'), 'utf8'), machines: readFileSync(path.join(dir, 'machines.json'), 'utf8') };

    // What another process of the user could write there: Ruby, a folder of the laptop, docker flags.
    writeFileSync(path.join(dir, 'Vagrantfile'), `${own.vagrantfile}\nsystem('touch /tmp/pcc-pwned')\n`);
    const tampered = JSON.parse(own.machines);
    tampered.machines[0].syncedFolders = [{ host: '/', guest: '/host' }];
    tampered.docker.createArgs.push('-v', '/:/host');
    writeFileSync(path.join(dir, 'machines.json'), JSON.stringify(tampered));

    await provider.start(['vagrant1'], () => undefined);
    expect(readFileSync(seen, 'utf8')).toBe(own.vagrantfile + own.machines);
    expect(readFileSync(path.join(dir, 'Vagrantfile'), 'utf8')).toBe(own.vagrantfile);
  });

  it('a machine list pcc cannot have written (left in .pcc/ by an earlier pcc) is an error that names the file', async () => {
    const root = makeProject({ 'project.env': 'PROJECT_NAME=own\nVAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=machine:1\n' });
    const dir = path.join(root, '.pcc', 'vagrant');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'machines.json'), JSON.stringify({ machines: [{ name: 'vagrant1"; system("x")', role: 'compute', computeType: 'cpu' }] }));
    const provider = new VagrantProvider(loadConfig(root, {}), { PATH: '/nonexistent' });
    await expect(provider.list()).rejects.toThrow(/machines\.json is malformed: machines\.0\.name: expected a machine name/);
  });
});
