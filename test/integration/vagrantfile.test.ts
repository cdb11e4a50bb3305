import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { VagrantProvider } from '../../src/providers/vagrant/vagrant-provider.js';
import { makeProject, tempDir } from '../helpers/project.js';

/**
 * The Vagrantfile pcc writes, for the backends the fleet cannot run (virtualbox, libvirt): real
 * Vagrant loads and validates it. The machines are planned as `up` plans them (Vagrant itself is
 * kept off the PATH for that part, so nothing is made).
 */
describe('the Vagrantfile for VM backends', () => {
  // nfs (VirtualBox's default) makes Vagrant check this machine's NFS server, which the fleet's kernel
  // cannot have: VirtualBox is validated with rsync. libvirt gets its default, virtiofs (the
  // vagrant-libvirt plugin is part of the fleet; test/libvirt boots such machines).
  it.each([
    ['virtualbox', 'rsync', 'VAGRANT_SYNCED_FOLDER_TYPE=rsync\n'],
    ['libvirt', 'virtiofs', ''],
  ] as const)('%s: Vagrant validates it (init synced folders: %s)', async (backend, folderType, extra) => {
    const root = makeProject({ 'project.env': `PROJECT_NAME=vf${backend}\nVAGRANT_PROVIDER=${backend}\n${extra}` });
    const config = loadConfig(root, { HOME: tempDir('pcc-home-') });
    const provider = new VagrantProvider(config, { PATH: '/nonexistent' });
    await expect(provider.up({ count: 1, computeType: 'cpu', role: 'init' }, () => undefined)).rejects.toThrow('vagrant is not installed');
    await expect(provider.up({ count: 2, computeType: 'cpu' }, () => undefined)).rejects.toThrow('vagrant is not installed');

    const dir = path.join(config.privateDir, 'vagrant');
    const spec = JSON.parse(readFileSync(path.join(dir, 'machines.json'), 'utf8')) as { backend: string; syncedFolderType: string | null; machines: { name: string }[] };
    expect(spec).toMatchObject({ backend, syncedFolderType: folderType });
    expect(spec.machines.map((machine) => machine.name)).toEqual(['init', 'vagrant1', 'vagrant2']);
    // vagrant-libvirt 0.11 crashes under --ignore-provider: libvirt's Vagrantfile is validated by its provider.
    const validated = await execa('vagrant', ['validate', ...(backend === 'libvirt' ? [] : ['--ignore-provider']), '--no-color'], { cwd: dir, reject: false, env: { VAGRANT_CHECKPOINT_DISABLE: '1' } });
    expect(validated.exitCode, validated.stdout + validated.stderr).toBe(0);
    expect(validated.stdout).toContain('Vagrantfile validated successfully.');
  });

  it('init gets its folders over NFS on virtualbox and virtiofs on libvirt, unless VAGRANT_SYNCED_FOLDER_TYPE says otherwise', () => {
    const config = (env: string) => loadConfig(makeProject({ 'project.env': env }), {}).vagrant.syncedFolderType;
    expect(config('VAGRANT_PROVIDER=virtualbox\n')).toBe('nfs');
    expect(config('VAGRANT_PROVIDER=virtualbox\nVAGRANT_SYNCED_FOLDER_TYPE=virtualbox\n')).toBe('virtualbox');
    expect(config('VAGRANT_PROVIDER=libvirt\n')).toBe('virtiofs');
    expect(config('VAGRANT_PROVIDER=libvirt\nVAGRANT_SYNCED_FOLDER_TYPE=9p\n')).toBe('9p');
  });
});
