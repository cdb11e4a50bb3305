import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLibvirtProject, pcc, removeProjectDomains } from '../helpers/pcc.js';

interface Summary { hosts: { host: string; steps: { step: string; outcome: string; message?: string }[] }[] }
interface StatusHost { name: string; state: string }
interface UpHost extends StatusHost { setup: { ok: boolean; failures: string[] } | null }

/**
 * pcc on machines with their own kernels (Vagrant's libvirt backend, TCG where KVM does not work):
 * what the container fleet cannot show, as a user gets it: /project over NFS, kernel WireGuard, a real
 * suspend, a power loss, and registry data that outlives init.
 */
describe('real-kernel machines (libvirt)', () => {
  const project = makeLibvirtProject('lv');
  const domain = (host: string) => `pcc-${project.name}-${host}`;
  const virsh = async (...args: string[]) => (await execa('virsh', ['-c', 'qemu:///system', ...args])).stdout.trim();
  /** A command on a host, over the SSH alias pcc wrote into the user's ~/.ssh/config. */
  const onHost = async (host: string, command: string) =>
    (await execa('ssh', ['-F', path.join(project.home, '.ssh', 'config'), '-o', 'BatchMode=yes', host, command], { stdin: 'ignore' })).stdout.trim();
  const onHostCode = async (host: string, command: string) =>
    (await execa('ssh', ['-F', path.join(project.home, '.ssh', 'config'), '-o', 'BatchMode=yes', host, command], { stdin: 'ignore', reject: false })).exitCode;
  const failedSteps = (summary: Summary) =>
    summary.hosts.flatMap((host) => host.steps.filter((step) => step.outcome === 'failed').map((step) => `${host.host} ${step.step}: ${step.message}`));
  /** The NFS mount at /project: setup mounts it on first access (a systemd automount stands over it). */
  const projectMount = (host: string) => onHost(host, "ls /project >/dev/null && findmnt -n -o FSTYPE,SOURCE /project | grep '^nfs4'");
  const bootId = (host: string) => onHost(host, 'cat /proc/sys/kernel/random/boot_id');
  /** A container on vagrant2 that the overlay tests ping; its address on pcc's network. */
  let targetAddress = '';
  const pingTarget = (from: string) => onHost(from, `docker run --rm --network pcc $REGISTRY_HOST/mybusybox ping -c 3 -W 5 ${targetAddress}`);
  let upHosts: UpHost[] = [];

  beforeAll(async () => {
    cpSync(path.resolve('docker/999-mybusybox'), path.join(project.root, 'docker', '999-mybusybox'), { recursive: true });
    const init = await pcc(project, ['init']);
    expect(init.exitCode, init.stdout + init.stderr).toBe(0);
    const up = await pcc(project, ['up', 'vagrant', '--count', '2', '--setup', '--json']);
    expect(up.stdout, up.stderr).toMatch(/^\[/);
    upHosts = JSON.parse(up.stdout) as UpHost[];
    expect(up.exitCode, up.stderr).toBe(0);
  }, 1_800_000);
  afterAll(async () => {
    await pcc(project, ['destroy', 'all', '--yes']);
    await removeProjectDomains(project);
  }, 600_000);

  it('setup finishes with no failed step, and /project is one NFS share for both hosts and the user\'s folder', async () => {
    expect(upHosts.map((host) => [host.name, host.state, host.setup]).sort()).toEqual([
      ['vagrant1', 'running', expect.objectContaining({ ok: true, failures: [] })],
      ['vagrant2', 'running', expect.objectContaining({ ok: true, failures: [] })],
    ]);
    for (const host of ['vagrant1', 'vagrant2']) {
      expect(await projectMount(host), host).toMatch(/^nfs4\s+10\.128\.0\.1:\/project$/);
    }
    // As root, whom the share maps to the project folder's owner (the login user may be someone else).
    await onHost('vagrant1', "sudo sh -c 'echo written on vagrant1 > /project/from-vagrant1.txt'");
    expect(await onHost('vagrant2', 'cat /project/from-vagrant1.txt')).toBe('written on vagrant1');
    expect(readFileSync(path.join(project.root, 'from-vagrant1.txt'), 'utf8')).toBe('written on vagrant1\n');
    writeFileSync(path.join(project.root, 'from-here.txt'), 'written here\n');
    expect(await onHost('vagrant2', 'cat /project/from-here.txt')).toBe('written here');
  });

  it('a folder made on one host is used from the other after a pause, and no file is ever read as another', async () => {
    // Through virtiofs alone, init's NFS server loses a directory's handle within a second and gives a
    // forgotten file's handle to the next file it looks up.
    await onHost('vagrant1', "sudo sh -c 'mkdir /project/results && echo first > /project/results/one.txt'");
    await setTimeout(5_000);
    await onHost('vagrant2', "sudo sh -c 'echo second > /project/results/two.txt'");
    expect(await onHost('vagrant1', 'cat /project/results/two.txt')).toBe('second');
    expect(readFileSync(path.join(project.root, 'results', 'two.txt'), 'utf8')).toBe('second\n');

    await onHost('vagrant1', "sudo sh -c 'for i in $(seq 40); do echo nfs $i > /project/results/n$i; cat /project/results/n$i >/dev/null; done'");
    await setTimeout(5_000);
    const made = Array.from({ length: 40 }, (_, i) => i + 1);
    for (const i of made) writeFileSync(path.join(project.root, 'results', `w${i}`), `workstation ${i}\n`);
    const read = await onHost('vagrant2', 'cd /project/results && for f in n* w*; do echo "$f $(cat $f)"; done');
    expect(read.split('\n').sort()).toEqual([...made.map((i) => `n${i} nfs ${i}`), ...made.map((i) => `w${i} workstation ${i}`)].sort());

    // A file the user edits on the workstation is read as edited (the server keeps no attributes).
    writeFileSync(path.join(project.root, 'results', 'w1'), 'edited on the workstation\n');
    await setTimeout(3_000);
    expect(await onHost('vagrant2', 'cat /project/results/w1')).toBe('edited on the workstation');
  });

  it('pcc doctor says KVM or TCG and why, and the machines run with what it says', async () => {
    const doctor = await pcc(project, ['doctor', '--json']);
    const report = JSON.parse(doctor.stdout) as { ok: boolean; checks: { id: string; status: string; detail: string }[] };
    expect(report.checks.find((check) => check.id === 'vagrant-libvirt')?.status).toBe('ok');
    const acceleration = report.checks.find((check) => check.id === 'libvirt-acceleration');
    expect(acceleration?.detail).toMatch(/^(KVM|TCG \(software emulation[^)]*\)): \S/);
    const domainType = acceleration?.detail.startsWith('KVM') ? 'kvm' : 'qemu';
    for (const host of ['init', 'vagrant1', 'vagrant2']) {
      expect(await virsh('dumpxml', domain(host)), host).toMatch(new RegExp(`<domain type='${domainType}'`));
    }
  });

  it('the overlay runs on kernel WireGuard, and a container on one host pings a container on the other', async () => {
    for (const host of ['init', 'vagrant1', 'vagrant2']) {
      expect(await onHost(host, 'ip -d link show pcc0'), host).toMatch(/\bwireguard\b/);
      expect(await onHostCode(host, 'pgrep -x wireguard-go'), `${host} runs wireguard-go`).toBe(1);
    }
    await onHost('vagrant2', 'docker run -d --name target --network pcc $REGISTRY_HOST/mybusybox sleep 3600');
    targetAddress = await onHost('vagrant2', "docker inspect -f '{{(index .NetworkSettings.Networks \"pcc\").IPAddress}}' target");
    expect(targetAddress).toMatch(/^10\.128\.\d+\.\d+$/);
    expect(await pingTarget('vagrant1')).toMatch(/3 packets transmitted, 3 packets received/);
  });

  it('pcc run: a job on vagrant2 writes to /project, and the file is in the user\'s folder', async () => {
    const run = await pcc(project, ['run', 'mybusybox', '--on', 'vagrant2', '--', 'sh', '-c', 'echo "written by $PCC_JOB" > /project/job-output.txt && hostname']);
    expect(run.exitCode, run.stderr).toBe(0);
    const job = /^(job-\d+)\.1@vagrant2 \| /m.exec(run.stdout)?.[1];
    expect(job, run.stdout).toBeDefined();
    expect(readFileSync(path.join(project.root, 'job-output.txt'), 'utf8')).toBe(`written by ${job}\n`);
    expect(await onHost('vagrant1', 'cat /project/job-output.txt')).toBe(`written by ${job}`);
  });

  it('pcc save suspends a machine for real, and pcc resume brings it back with Docker, the overlay and /project', async () => {
    const before = await bootId('vagrant1');
    const save = await pcc(project, ['save', 'vagrant1']);
    expect(save.exitCode, save.stderr).toBe(0);
    expect(await virsh('domstate', domain('vagrant1'))).toBe('paused');
    const status = JSON.parse((await pcc(project, ['status', '--json'])).stdout) as StatusHost[];
    expect(status.find((host) => host.name === 'vagrant1')?.state).toBe('saved');

    const resume = await pcc(project, ['resume', 'vagrant1']);
    expect(resume.exitCode, resume.stderr).toBe(0);
    expect(await virsh('domstate', domain('vagrant1'))).toBe('running');
    // The same boot: suspended and resumed, not restarted.
    expect(await bootId('vagrant1')).toBe(before);
    expect(await onHost('vagrant1', "docker info --format '{{.Driver}}'")).toBe('btrfs');
    expect(await onHost('vagrant1', 'cat /project/from-here.txt')).toBe('written here');
    expect(await pingTarget('vagrant1')).toMatch(/3 packets received/);
  });

  it('after a hard power-off (virsh destroy), pcc resume brings back btrfs /var/lib/docker, Docker and /project', async () => {
    const before = await bootId('vagrant2');
    await virsh('destroy', domain('vagrant2'));
    const status = JSON.parse((await pcc(project, ['status', '--json'])).stdout) as StatusHost[];
    expect(status.find((host) => host.name === 'vagrant2')?.state).toBe('stopped');

    const resume = await pcc(project, ['resume', 'vagrant2']);
    expect(resume.exitCode, resume.stderr).toBe(0);
    expect(await bootId('vagrant2')).not.toBe(before);
    expect(await onHost('vagrant2', 'findmnt -n -o FSTYPE /var/lib/docker')).toBe('btrfs');
    expect(await onHost('vagrant2', "docker info --format '{{.Driver}}'")).toBe('btrfs');
    expect(await projectMount('vagrant2')).toMatch(/^nfs4\s+10\.128\.0\.1:\/project$/);
    expect(await onHost('vagrant2', 'cat /project/from-vagrant1.txt')).toBe('written on vagrant1');
    // Images pulled before the power loss are still on the btrfs volume.
    expect(await onHostCode('vagrant2', 'docker image inspect $REGISTRY_HOST/mybusybox >/dev/null')).toBe(0);
  });

  it('after init loses power, pcc resume serves the share again, mounts /project again on the hosts that kept running, and .pcc and config stay hidden', async () => {
    // A program that stays in /project across the restart must not keep the host on the old mount.
    await onHost('vagrant1', 'cd /project/results && (setsid sleep 3600 </dev/null >/dev/null 2>&1 &)');
    await virsh('destroy', domain('init'));
    const resume = await pcc(project, ['resume', 'init']);
    expect(resume.exitCode, resume.stderr).toBe(0);
    // The share's file handles went with init: each host that kept running mounts it again.
    expect(resume.stdout + resume.stderr).toMatch(/mount \/project again on (vagrant1, vagrant2|vagrant2, vagrant1): done/);
    // The provider mounts the folder after boot, over any hiding mount made at boot: what the server
    // serves (the view) must still show them empty. ls fails if the view is not there.
    for (const hidden of ['.pcc', 'config']) expect(await onHost('init', `sudo ls -A /srv/pcc/share/${hidden}`), hidden).toBe('');
    for (const host of ['vagrant1', 'vagrant2']) {
      for (const hidden of ['.pcc', 'config']) expect(await onHost(host, `ls -A /project/${hidden}`), `${host} ${hidden}`).toBe('');
      expect(await onHost(host, 'cat /project/results/two.txt'), host).toBe('second');
    }
    await onHost('vagrant2', "sudo sh -c 'echo after the restart > /project/results/after.txt'");
    expect(await onHost('vagrant1', 'cat /project/results/after.txt')).toBe('after the restart');
    expect(readFileSync(path.join(project.root, 'results', 'after.txt'), 'utf8')).toBe('after the restart\n');
    await onHost('vagrant1', 'pkill -x sleep || true');
  });

  it('registry images are still pullable after init is destroyed and made again', async () => {
    const destroy = await pcc(project, ['destroy', 'init', '--yes']);
    expect(destroy.exitCode, destroy.stderr).toBe(0);
    expect(await virsh('list', '--all', '--name')).not.toContain(domain('init'));
    const init = await pcc(project, ['init']);
    expect(init.exitCode, init.stdout + init.stderr).toBe(0);
    // The new init's share has new handles: the hosts mount it again, with no setup of their own.
    expect(init.stdout + init.stderr).toMatch(/mount \/project again on (vagrant1, vagrant2|vagrant2, vagrant1): done/);
    expect(await onHost('vagrant1', 'cat /project/from-vagrant1.txt')).toBe('written on vagrant1');
    const setup = await pcc(project, ['setup', 'vagrant1', '--json']);
    expect(setup.exitCode, failedSteps(JSON.parse(setup.stdout) as Summary).join('\n') || setup.stderr).toBe(0);
    await onHost('vagrant1', 'docker image rm -f $(docker image ls -q) >/dev/null 2>&1; docker image ls -q | wc -l');
    const pulled = await onHost('vagrant1', 'docker pull -q $REGISTRY_HOST/mybusybox && docker run --rm $REGISTRY_HOST/mybusybox echo pulled');
    expect(pulled).toMatch(/pulled$/);
  });

  it('a machine removed behind pcc\'s back (virsh undefine) is gone from pcc status', async () => {
    await virsh('destroy', domain('vagrant2'));
    await virsh('undefine', domain('vagrant2'), '--remove-all-storage');
    const status = await pcc(project, ['status', '--json']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as StatusHost[]).map((host) => [host.name, host.state]).sort()).toEqual([
      ['init', 'running'],
      ['vagrant1', 'running'],
      ['vagrant2', 'gone'],
    ]);
  });
});
