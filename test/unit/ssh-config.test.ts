import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SshConfigFiles } from '../../src/engine/ssh/ssh-config.js';
import { tempDir } from '../helpers/project.js';

const USER_CONFIG = [
  '# my settings',
  'Include ~/.ssh/work/*',
  'ServerAliveInterval 30',
  '',
  'Host github.com',
  '  User git',
  '  # comment inside a block',
  '',
  'Match host *.internal exec "true"',
  '  ProxyJump bastion',
  '',
  'Host *',
  '  AddKeysToAgent yes',
  '', // no trailing newline after this on purpose: the file ends with "yes\n"
].join('\n');

const HOST = { name: 'vagrant1', aliases: ['vagrant-vagrant1', 'cpu-vagrant1'], host: '127.0.0.1', port: 2200, user: 'vagrant', identityFile: '/p/.pcc/key' };

function setup(existing?: string) {
  const home = tempDir('pcc-home-');
  if (existing !== undefined) {
    mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    writeFileSync(path.join(home, '.ssh', 'config'), existing, { mode: 0o644 });
  }
  return { home, files: new SshConfigFiles(home, 'demo', '/p/.pcc/known_hosts') };
}

describe('~/.ssh/config management', () => {
  it("adds only pcc's Include line before the first block and keeps every other byte and the mode", async () => {
    const { files } = setup(USER_CONFIG);
    await files.write([HOST]);
    const after = readFileSync(files.userConfig, 'utf8');
    expect(after).toBe(`${files.includeLine}\n${USER_CONFIG}`);
    expect(statSync(files.userConfig).mode & 0o777).toBe(0o644);
    await files.write([{ ...HOST, port: 2201 }]);
    expect(readFileSync(files.userConfig, 'utf8')).toBe(after);
    await files.write([]);
    expect(readFileSync(files.userConfig, 'utf8')).toBe(after);
    expect(existsSync(files.pccFile)).toBe(false);
  });

  it('creates ~/.ssh/config with mode 0600 when absent', async () => {
    const { files } = setup();
    await files.write([HOST]);
    expect(readFileSync(files.userConfig, 'utf8')).toBe(`${files.includeLine}\n`);
    expect(statSync(files.userConfig).mode & 0o777).toBe(0o600);
    expect(statSync(files.pccFile).mode & 0o777).toBe(0o600);
  });

  it('writes through a symlinked ~/.ssh/config, leaving the link in place', async () => {
    const { home, files } = setup();
    mkdirSync(path.join(home, '.ssh'), { recursive: true });
    const target = path.join(home, 'dotfiles-ssh-config');
    writeFileSync(target, 'Host x\n  User y\n');
    symlinkSync(target, files.userConfig);
    await files.write([HOST]);
    expect(lstatSync(files.userConfig).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe(`${files.includeLine}\nHost x\n  User y\n`);
  });

  it('renders one block per host with its aliases, pinned known_hosts and no StrictHostKeyChecking no', async () => {
    const { files } = setup();
    await files.write([HOST]);
    const text = readFileSync(files.pccFile, 'utf8');
    expect(text).toContain('Host vagrant1 vagrant-vagrant1 cpu-vagrant1\n  HostName 127.0.0.1\n  Port 2200\n  User vagrant\n');
    expect(text).toContain('  HostKeyAlias vagrant1\n  UserKnownHostsFile "/p/.pcc/known_hosts"\n  StrictHostKeyChecking yes\n');
    expect(text).not.toMatch(/StrictHostKeyChecking no/);
  });

  it('serialises concurrent writers: the file is always one whole rendering', async () => {
    const { files } = setup(USER_CONFIG);
    const variants = Array.from({ length: 12 }, (_, i) => [{ ...HOST, port: 3000 + i }]);
    await Promise.all(variants.map((hosts) => files.write(hosts)));
    const text = readFileSync(files.pccFile, 'utf8');
    expect(variants.map((hosts) => files.render(hosts))).toContain(text);
    expect(readFileSync(files.userConfig, 'utf8').split(files.includeLine)).toHaveLength(2);
  });
});
