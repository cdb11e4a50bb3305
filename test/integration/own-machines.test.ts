import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleetMachine, type FleetMachine } from '../helpers/fleet.js';
import { makeFleetProject, pcc, PCC_BIN, privateDirOf } from '../helpers/pcc.js';

interface StatusHost { name: string; provider: string; state: string; groups: string[]; address: string | null }
interface Summary { ok: boolean; hosts: { host: string; steps: { step: string; outcome: string; message?: string }[] }[] }

/** A password no other string of the test contains, so finding it anywhere means pcc leaked it. */
const PASSWORD = 'Owl-violet-4417-harbour';
/** What the user's authorized_keys held before pcc: no newline at its end would be changed, so it has one. */
const USER_KEYS = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLE1 alice@laptop\n# the lab\'s admin\n';

/**
 * What pcc's setup changes on a machine, read the same way before pcc and after pcc remove: pcc's
 * files and units, the mounts, fstab and /etc/environment, the overlay's interface and firewall
 * chain, Docker's configs and whether Docker starts at boot.
 */
const TRACES = [
  // Docker writes its own identity (key.json) when it first starts: Docker's file, not pcc's.
  'find /etc/systemd/system /etc/pcc /usr/local/lib/pcc /usr/local/bin /etc/profile.d /etc/docker /var/lib/pcc /project -maxdepth 3 2>/dev/null | grep -vx /etc/docker/key.json | sort',
  'cat /etc/fstab /etc/environment',
  'ls /var/lib/docker.btrfs 2>&1',
  'findmnt -n -o TARGET,FSTYPE /var/lib/docker || echo not mounted',
  'ip -o link show pcc0 2>&1 | wc -l',
  '(iptables-save 2>/dev/null | grep -c PCC) || true',
  'cat /root/.docker/config.json /home/vagrant/.docker/config.json /etc/docker/daemon.json 2>&1',
  'systemctl is-enabled docker.service pcc-overlay.service project.automount pcc-idle-stop.timer 2>&1 || true',
].join('; echo ---; ');

/** Every file under a folder, for the leak check. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((entry) => path.join(dir, entry)).filter((file) => statSync(file).isFile());
}

/**
 * The user's own machines, added over SSH: host containers started with docker run (no Vagrant), as
 * a lab server would be, with a password login, the user's own key, and sudo for the login user.
 */
describe('your own machines over SSH (pcc add ssh, pcc remove)', () => {
  const project = { ...makeFleetProject('own') };
  project.env = { ...project.env, SSH_AUTH_SOCK: undefined };
  let lab: FleetMachine;
  let desk: FleetMachine;
  let labBefore: string;
  const on = async (machine: FleetMachine, command: string) => (await execa('docker', ['exec', machine.id, 'bash', '-c', command])).stdout.trim();
  const status = async () => JSON.parse((await pcc(project, ['status', '--json'])).stdout) as StatusHost[];
  const withInput = (args: string[], input: string) =>
    execa('node', [PCC_BIN, ...args], { cwd: project.root, env: project.env, extendEnv: false, reject: false, input });
  const outputs: string[] = [];

  beforeAll(async () => {
    [lab, desk] = await Promise.all([startFleetMachine(`pcc-own-lab-${project.name}`), startFleetMachine(`pcc-own-desk-${project.name}`)]);
    await on(lab, `echo 'vagrant:${PASSWORD}' | chpasswd`);
    labBefore = await on(lab, TRACES);
    await execa('docker', ['exec', '-e', `KEYS=${USER_KEYS}`, lab.id, 'bash', '-c', 'install -d -m 700 -o vagrant -g vagrant /home/vagrant/.ssh && printf %s "$KEYS" > /home/vagrant/.ssh/authorized_keys && chown vagrant: /home/vagrant/.ssh/authorized_keys && chmod 600 /home/vagrant/.ssh/authorized_keys']);
    // The user's own key, which the desk machine takes and the lab machine does not.
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'user@laptop', '-f', path.join(project.home, '.ssh', 'id_ed25519')]);
    const userKey = readFileSync(path.join(project.home, '.ssh', 'id_ed25519.pub'), 'utf8');
    await execa('docker', ['exec', '-e', `KEY=${userKey}`, desk.id, 'bash', '-c', 'install -d -m 700 -o vagrant -g vagrant /home/vagrant/.ssh && printf %s "$KEY" > /home/vagrant/.ssh/authorized_keys && chown vagrant: /home/vagrant/.ssh/authorized_keys && passwd -l vagrant >/dev/null']);
    // A user who may log in but not use sudo without a password.
    await on(desk, `useradd -m -s /bin/bash carol && install -d -m 700 -o carol -g carol /home/carol/.ssh && cp /home/vagrant/.ssh/authorized_keys /home/carol/.ssh/ && chown carol: /home/carol/.ssh/authorized_keys`);
  });
  afterAll(async () => {
    await Promise.all([lab?.remove(), desk?.remove()]);
  });

  it('adds a machine with a password given once: pins its host key, installs pcc\'s key beside the user\'s, names its aliases', async () => {
    const added = await withInput(['add', 'ssh', `vagrant@${lab.address}`, '--name', 'lab1', '--password-stdin', '--json'], `${PASSWORD}\n`);
    outputs.push(added.stdout, added.stderr);
    expect(added.exitCode, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject([{ name: 'lab1', provider: 'ssh', state: 'running', groups: ['ssh', 'cpu'], address: `${lab.address}:22` }]);
    expect(readFileSync(path.join(privateDirOf(project), 'known_hosts'), 'utf8')).toContain(`lab1 ${lab.hostKey}`);
    const keys = await on(lab, 'cat /home/vagrant/.ssh/authorized_keys');
    expect(keys.startsWith(USER_KEYS)).toBe(true);
    expect(keys.slice(USER_KEYS.length)).toMatch(/^ssh-ed25519 \S+ pcc-t\w+$/);
    // OpenSSH itself, through pcc's aliases and pinned key, with no password.
    const ssh = await execa('ssh', ['-F', path.join(project.home, '.ssh', 'config'), '-o', 'BatchMode=yes', 'ssh-lab1', 'hostname'], { reject: false, stdin: 'ignore' });
    expect(ssh.stdout.trim(), ssh.stderr).toBe(lab.name);
  }, 60_000);

  it('adds a machine that takes the user\'s key, with no password to ask; refuses a user without passwordless sudo, saying what to add', async () => {
    const added = await pcc(project, ['add', 'ssh', `vagrant@${desk.address}`, '--name', 'desk', '--type', 'gpu', '--json']);
    outputs.push(added.stdout, added.stderr);
    expect(added.exitCode, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject([{ name: 'desk', provider: 'ssh', groups: ['ssh', 'gpu'] }]);

    const noSudo = await pcc(project, ['add', 'ssh', `carol@${desk.address}`, '--name', 'carol-desk']);
    expect(noSudo.exitCode).not.toBe(0);
    expect(noSudo.stderr).toContain("carol on " + desk.address + ' cannot run sudo without a password');
    expect(noSudo.stderr).toContain("echo 'carol ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/pcc-carol");
    // Nothing of it is kept: no host, no pin, no key on the machine.
    expect((await status()).map((host) => host.name).sort()).toEqual(['desk', 'lab1']);
    expect(readFileSync(path.join(privateDirOf(project), 'known_hosts'), 'utf8')).not.toMatch(/^carol-desk /m);
    expect(await on(desk, 'cat /home/carol/.ssh/authorized_keys')).not.toContain('pcc-');

    // A key with a passphrase belongs in the agent.
    const locked = path.join(project.home, 'locked_key');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'a passphrase', '-f', locked]);
    const withLocked = await pcc(project, ['add', 'ssh', `vagrant@${desk.address}`, '--name', 'desk-locked', '--identity', locked]);
    expect(withLocked.exitCode).toBe(2);
    expect(withLocked.stderr).toContain(`--identity ${locked} is protected by a passphrase`);

    // No key it takes, and no terminal to ask for a password on.
    const noWay = await pcc(project, ['add', 'ssh', `vagrant@${lab.address}`, '--name', 'lab-again']);
    expect(noWay.exitCode).not.toBe(0);
    expect(noWay.stderr).toContain('took none of your SSH keys, and there is no terminal to ask for a password');
  }, 60_000);

  it('sets up like any host; the storage step refuses a machine whose Docker already holds data, and keeps it', async () => {
    await on(desk, 'mkdir -p /var/lib/docker/volumes/results/_data && echo measured > /var/lib/docker/volumes/results/_data/run1.csv');
    const run = await pcc(project, ['setup', 'lab1,desk', '--json']);
    outputs.push(run.stdout, run.stderr);
    const summary = JSON.parse(run.stdout) as Summary;
    const steps = (host: string) => Object.fromEntries((summary.hosts.find((h) => h.host === host)?.steps ?? []).map((step) => [step.step, step.outcome]));
    // The fleet has no /project to mount: that step alone fails on every fleet host.
    expect(steps('lab1')).toMatchObject({ 'docker-storage': 'changed', 'docker-engine': 'changed', overlay: 'changed', 'registry-access': 'changed', 'project-share': 'failed' });
    expect(steps('desk')['docker-storage']).toBe('failed');
    expect(run.stdout).toContain("/var/lib/docker holds data that is not on pcc's volume");
    expect(run.stdout).toContain('or keep Docker\'s own storage on this machine: pcc setup desk --keep-docker-storage');
    expect(await on(desk, 'cat /var/lib/docker/volumes/results/_data/run1.csv')).toBe('measured');
    // Said explicitly, the storage step keeps Docker's own storage, and keeps saying so.
    const kept = JSON.parse((await pcc(project, ['setup', 'desk', '--steps', 'docker-storage', '--keep-docker-storage', '--json'])).stdout) as Summary;
    expect(kept.hosts[0]?.steps).toEqual([expect.objectContaining({ step: 'docker-storage', outcome: 'unchanged', message: "Docker's own storage on this machine, kept (--keep-docker-storage)" })]);
    const again = JSON.parse((await pcc(project, ['setup', 'desk', '--steps', 'docker-storage', '--json'])).stdout) as Summary;
    expect(again.hosts[0]?.steps[0]).toMatchObject({ outcome: 'unchanged' });
    expect(await on(desk, 'cat /var/lib/docker/volumes/results/_data/run1.csv; findmnt -n /var/lib/docker || echo own storage')).toBe('measured\nown storage');
    expect(await on(lab, "docker info --format '{{.Driver}}'")).toBe('btrfs');
  }, 300_000);

  it('refuses save, resume and destroy: pcc did not make these machines', async () => {
    const saved = await pcc(project, ['save', 'lab1']);
    expect(saved.exitCode).not.toBe(0);
    expect(saved.stderr).toContain('cannot save lab1: pcc did not make your own machines and does not power them');
    const resumed = await pcc(project, ['resume', 'lab1']);
    expect(resumed.stderr).toContain('cannot resume lab1');
    const destroyed = await pcc(project, ['destroy', 'lab1', '--yes']);
    expect(destroyed.exitCode).not.toBe(0);
    expect(destroyed.stderr).toContain('lab1: pcc does not destroy your own machines');
    expect(await on(lab, 'systemctl is-system-running --wait >/dev/null 2>&1; echo up')).toBe('up');
  });

  it('a machine that does not answer is unreachable, never gone, and comes back', async () => {
    await on(desk, 'systemctl stop ssh.socket ssh.service 2>/dev/null; systemctl stop ssh');
    expect((await status()).find((host) => host.name === 'desk')).toMatchObject({ provider: 'ssh', state: 'unreachable' });
    const table = await pcc(project, ['status']);
    expect(table.stdout).toMatch(/desk\s+ssh\s+unreachable/);
    await on(desk, 'systemctl start ssh');
    expect((await status()).find((host) => host.name === 'desk')).toMatchObject({ state: 'running' });
  });

  it('a machine whose host key changed is refused before anything runs on it', async () => {
    await on(desk, 'rm -f /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && systemctl restart ssh');
    const run = await pcc(project, ['setup', 'desk']);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr + run.stdout).toContain('host key of desk has changed');
  }, 60_000);

  it("remove asks before it takes Docker's volume; with --yes it takes pcc's setup and key off, and the machine is as it was before pcc", async () => {
    expect(await on(lab, TRACES)).not.toBe(labBefore);
    const asked = await pcc(project, ['remove', 'lab1']);
    expect(asked.exitCode).toBe(2);
    expect(asked.stderr).toContain("pcc remove lab1 takes pcc's setup off it: Docker's volume goes, with the images, containers and volumes in it");
    expect(asked.stderr).toContain('--keep-setup');

    const removed = await pcc(project, ['remove', 'lab1', '--yes', '--json']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    const report = JSON.parse(removed.stdout) as { removed: string; takenOff: string[]; left: string[] };
    expect(report).toMatchObject({ removed: 'lab1', takenOff: ['project-share', 'swarm', 'spot-watch', 'idle-stop', 'registry-access', 'overlay', 'docker-engine', 'docker-storage', 'authorized-key'] });
    expect(report.left).toEqual([expect.stringMatching(/^CUDA.*pcc does not take it off/)]);
    expect(await on(lab, TRACES)).toBe(labBefore);
    const { stdout: keys } = await execa('docker', ['exec', lab.id, 'cat', '/home/vagrant/.ssh/authorized_keys'], { stripFinalNewline: false });
    expect(keys).toBe(USER_KEYS);
    expect((await status()).map((host) => host.name)).toEqual(['desk']);
    for (const file of filesUnder(path.join(project.home, '.ssh', 'config.d'))) expect(readFileSync(file, 'utf8')).not.toContain('lab1');
    expect(readFileSync(path.join(privateDirOf(project), 'known_hosts'), 'utf8')).not.toMatch(/^lab1 /m);
  }, 120_000);

  it('remove --keep-setup leaves Docker and its data; a machine pcc no longer has the key of is forgotten only when asked', async () => {
    expect((await pcc(project, ['forget-key', 'desk'])).exitCode).toBe(0);
    const removed = await pcc(project, ['remove', 'desk', '--keep-setup']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/left on it: Docker storage on btrfs: kept \(--keep-setup\)/);
    expect(await on(desk, 'cat /var/lib/docker/volumes/results/_data/run1.csv')).toBe('measured');
    expect(await on(desk, 'cat /home/vagrant/.ssh/authorized_keys')).not.toContain('pcc-');
    expect(await status()).toEqual([]);
  }, 120_000);

  it('on a terminal it asks for the password once, without echoing it', async () => {
    // `script` gives pcc a terminal, as a person at a keyboard has; the password is typed at the prompt.
    const session = execa('script', ['-qec', `node ${PCC_BIN} add ssh vagrant@${lab.address} --name lab2`, '/dev/null'], {
      cwd: project.root, env: project.env, extendEnv: false, reject: false, all: true,
    });
    let shown = '';
    session.all?.on('data', (chunk: Buffer) => void (shown += chunk.toString()));
    await expect.poll(() => shown, { timeout: 20_000 }).toContain(`vagrant@${lab.address}'s password: `);
    session.stdin?.write(`${PASSWORD}\r`);
    const done = await session;
    outputs.push(shown);
    expect(done.exitCode, shown).toBe(0);
    expect(shown.split(`password: `)).toHaveLength(2);
    expect((await status()).find((host) => host.name === 'lab2')).toMatchObject({ provider: 'ssh', state: 'running' });
  }, 60_000);

  it('the password is in no output, log or file of pcc', () => {
    const files = [...filesUnder(project.root), ...filesUnder(project.home)];
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) expect(readFileSync(file, 'utf8').includes(PASSWORD), file).toBe(false);
    for (const output of outputs) expect(output.includes(PASSWORD)).toBe(false);
  });
});
