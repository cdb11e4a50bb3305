import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnownHosts } from '../../src/engine/ssh/known-hosts.js';
import { SshError, SshPool, type SshTarget } from '../../src/engine/ssh/pool.js';
import { startFleetMachine, type FleetMachine } from '../helpers/fleet.js';
import { tempDir } from '../helpers/project.js';

describe('SSH layer on a fleet machine', () => {
  let machine: FleetMachine;
  let target: SshTarget;
  let pool: SshPool;
  let knownHosts: KnownHosts;
  const lines: string[] = [];

  /** sshd's privileged processes for the vagrant user: one per open connection. */
  const sessions = async () =>
    (await execa('docker', ['exec', machine.id, 'sh', '-c', 'pgrep -c -f "^sshd: vagrant \\[priv\\]" || true'])).stdout.trim();

  beforeAll(async () => {
    machine = await startFleetMachine('pcc-test-ssh-pool');
    const dir = tempDir('pcc-ssh-');
    const keys = utils.generateKeyPairSync('ed25519');
    const identityFile = path.join(dir, 'id_ed25519');
    writeFileSync(identityFile, keys.private, { mode: 0o600 });
    await execa('docker', ['exec', machine.id, 'sh', '-c',
      `install -d -m 700 -o vagrant -g vagrant ~vagrant/.ssh && echo '${keys.public}' > ~vagrant/.ssh/authorized_keys && chown vagrant: ~vagrant/.ssh/authorized_keys`]);
    knownHosts = new KnownHosts(path.join(dir, 'known_hosts'));
    pool = new SshPool({ knownHosts, onOutput: (host, stream, line) => lines.push(`${host} ${stream} ${line}`), retryDelayMs: 200 });
    target = { name: 'pooled', host: machine.address, port: 22, user: 'vagrant', identityFile };
  });
  afterAll(async () => {
    pool?.closeAll();
    await machine?.remove();
  });

  it('pins the host key on first use and streams output lines with their host', async () => {
    const result = await pool.exec(target, 'printf "one\\ntwo\\n"; echo err >&2; exit 4');
    expect(result).toEqual({ code: 4, stdout: 'one\ntwo\n', stderr: 'err\n' });
    expect(lines).toEqual(expect.arrayContaining(['pooled stdout one', 'pooled stdout two', 'pooled stderr err']));
    const [type, base64] = machine.hostKey.split(' ');
    expect(knownHosts.check('pooled', { type: type ?? '', base64: base64 ?? '' })).toBe('match');
  });

  it('runs many commands over one connection', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => pool.exec(target, `echo ${i}; sleep 0.3`)));
    expect(results.map((r) => r.stdout.split('\n')[0])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(await sessions()).toBe('1');
  });

  it('runs as root with sudo and feeds standard input', async () => {
    const result = await pool.exec(target, 'id -u; cat', { sudo: true, stdin: 'from stdin' });
    expect(result.stdout).toBe('0\nfrom stdin');
  });

  it('uploads a file over SFTP with its mode', async () => {
    await pool.upload(target, '/tmp/pcc-upload', 'uploaded\n', 0o640);
    const result = await pool.exec(target, 'stat -c %a /tmp/pcc-upload; cat /tmp/pcc-upload');
    expect(result.stdout).toBe('640\nuploaded\n');
  });

  it('reconnects after the connection is cut from the host side', async () => {
    await execa('docker', ['exec', machine.id, 'pkill', '-f', '^sshd: vagrant']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const result = await pool.exec(target, 'echo back');
    expect(result.stdout).toBe('back\n');
  });

  it('gives up with a clear error when the host does not answer', async () => {
    const small = new SshPool({ knownHosts, connectAttempts: 2, retryDelayMs: 50, readyTimeoutMs: 2000 });
    const attempt = small.exec({ ...target, name: 'nowhere', port: 1 }, 'true');
    await expect(attempt).rejects.toBeInstanceOf(SshError);
    await expect(attempt).rejects.toThrow(/nowhere: cannot connect to vagrant@.*:1 after 2 attempts/);
  });
});
