import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFleetProject, pcc, removeProjectContainers } from '../helpers/pcc.js';

interface Summary {
  ok: boolean;
  hosts: { host: string; ok: boolean; steps: { step: string; outcome: string; changes: string[]; message?: string }[] }[];
}

const GIB = 1024 ** 3;
const NFS_REFUSAL = /kernel has no NFS client/;

describe('host setup on fleet machines', () => {
  const project = makeFleetProject('setup');
  const container = (host: string) => `pcc-${project.name}-${host}`;
  const onHost = async (host: string, command: string) =>
    (await execa('docker', ['exec', container(host), 'bash', '-c', command])).stdout.trim();
  const setProjectEnv = (gb: number) =>
    writeFileSync(path.join(project.root, 'config', 'project.env'),
      `PROJECT_NAME=${project.name}\nVAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=${process.env.VAGRANT_DOCKER_IMAGE}\nREGISTRY_IMAGE=${process.env.REGISTRY_IMAGE}\nVARLIBDOCKER_GB=${gb}\n`);

  async function runSetup(pattern: string, ...flags: string[]): Promise<{ code: number | undefined; summary: Summary; stderr: string }> {
    const result = await pcc(project, ['setup', pattern, '--json', ...flags]);
    expect(result.stdout, result.stderr).toMatch(/^\{/);
    return { code: result.exitCode, summary: JSON.parse(result.stdout) as Summary, stderr: result.stderr };
  }
  const outcomes = (summary: Summary, host: string) =>
    Object.fromEntries(summary.hosts.find((h) => h.host === host)?.steps.map((s) => [s.step, s.outcome]) ?? []);
  /** What a no-op run must leave alone: pcc's files, the mount table, the daemon's start time. */
  const fingerprint = (host: string) =>
    onHost(host, 'sha256sum /etc/fstab /etc/docker/daemon.json /etc/profile.d/pcc.sh /etc/environment /etc/docker/certs.d/10.128.0.1:5000/ca.crt /etc/pcc/registry-login.json /root/.docker/config.json ~vagrant/.docker/config.json ' +
      '/etc/systemd/system/docker.service.d/pcc-var-lib-docker.conf || exit 1; findmnt -rn -o TARGET,SOURCE,FSTYPE,OPTIONS | sort; ' +
      'systemctl show docker -p ActiveEnterTimestampMonotonic -p MainPID');

  beforeAll(async () => {
    const up = await pcc(project, ['up', 'vagrant', '--count', '2']);
    expect(up.exitCode, up.stderr).toBe(0);
    await onHost('vagrant2', `mkdir -p /etc/docker && echo '{"log-driver": "json-file", "log-opts": {"max-size": "10m"}, "insecure-registries": ["lab:5000", "10.128.0.1:5000"]}' > /etc/docker/daemon.json`);
    // vagrant1's mkfs.btrfs waits, so its sshd can be killed while setup is under way.
    await onHost('vagrant1', `printf '#!/bin/sh\\ntouch /tmp/mkfs-started\\nsleep 5\\nexec /sbin/mkfs.btrfs "$@"\\n' > /usr/local/sbin/mkfs.btrfs && chmod +x /usr/local/sbin/mkfs.btrfs`);
  });
  afterAll(async () => {
    await pcc(project, ['destroy', 'all', '--yes']);
    await removeProjectContainers(project);
  });

  it('--dry-run lists what would change and changes nothing', async () => {
    const before = await onHost('vagrant2', 'cat /etc/fstab /etc/docker/daemon.json; findmnt -rn -o TARGET | sort');
    const { code, summary } = await runSetup('vagrant2', '--dry-run');
    expect(code).toBe(1);
    expect(outcomes(summary, 'vagrant2')).toEqual({
      'docker-storage': 'planned', 'docker-engine': 'planned', overlay: 'planned', 'registry-access': 'planned', cuda: 'unchanged', 'idle-stop': 'unchanged', 'spot-watch': 'unchanged', swarm: 'unchanged', 'project-share': 'failed',
    });
    expect(summary.hosts[0]?.steps[0]?.changes).toContain('create a 3 GiB btrfs volume in /var/lib/docker.btrfs');
    expect(await onHost('vagrant2', 'cat /etc/fstab /etc/docker/daemon.json; findmnt -rn -o TARGET | sort')).toBe(before);
  });

  it('a host whose sshd is killed mid-setup fails clearly while the other finishes', async () => {
    const running = pcc(project, ['setup', 'all', '--json']);
    while ((await execa('docker', ['exec', container('vagrant1'), 'test', '-e', '/tmp/mkfs-started'], { reject: false })).exitCode !== 0) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await onHost('vagrant1', 'pkill -x sshd');
    const result = await running;
    expect(result.exitCode).toBe(1);
    const summary = JSON.parse(result.stdout) as Summary;
    const failed = summary.hosts.find((h) => h.host === 'vagrant1')?.steps.find((s) => s.step === 'docker-storage');
    expect(failed?.outcome).toBe('failed');
    expect(failed?.message).toMatch(/vagrant1: (the connection closed before the command finished|cannot connect)/);
    expect(outcomes(summary, 'vagrant1')).toMatchObject({ 'docker-engine': 'skipped', 'project-share': 'skipped' });
    expect(outcomes(summary, 'vagrant2')).toEqual({
      'docker-storage': 'changed', 'docker-engine': 'changed', overlay: 'changed', 'registry-access': 'changed', cuda: 'unchanged', 'idle-stop': 'unchanged', 'spot-watch': 'unchanged', swarm: 'unchanged', 'project-share': 'failed',
    });
    expect(summary.hosts.find((h) => h.host === 'vagrant2')?.steps.find((s) => s.step === 'project-share')?.message).toMatch(NFS_REFUSAL);
    expect(result.stderr).toMatch(/vagrant1: docker-storage failed/);
  });

  it('a rerun completes the interrupted host without duplicates', async () => {
    await onHost('vagrant1', 'rm /usr/local/sbin/mkfs.btrfs; systemctl start ssh');
    const { summary } = await runSetup('all');
    expect(outcomes(summary, 'vagrant1')).toEqual({
      'docker-storage': 'changed', 'docker-engine': 'changed', overlay: 'changed', 'registry-access': 'changed', cuda: 'unchanged', 'idle-stop': 'unchanged', 'spot-watch': 'unchanged', swarm: 'unchanged', 'project-share': 'failed',
    });
    expect(await onHost('vagrant1', "grep -c ' /var/lib/docker ' /etc/fstab")).toBe('1');
    expect(JSON.parse(await onHost('vagrant1', 'cat /etc/docker/daemon.json'))).toMatchObject({ 'storage-driver': 'btrfs' });
  });

  it('leaves Docker on btrfs of VARLIBDOCKER_GB, REGISTRY_HOST exported and trusted, and the user daemon.json keys in place', async () => {
    for (const host of ['vagrant1', 'vagrant2']) {
      expect(await onHost(host, "docker info --format '{{.Driver}}'")).toBe('btrfs');
      expect(await onHost(host, "btrfs filesystem show --raw /var/lib/docker | awk '/devid/ {print $4}'")).toBe(String(3 * GIB));
      expect(await onHost(host, "su - vagrant -c 'echo $REGISTRY_HOST'")).toBe('10.128.0.1:5000');
    }
    const daemon = JSON.parse(await onHost('vagrant2', 'cat /etc/docker/daemon.json'));
    expect(daemon).toEqual({
      'log-driver': 'json-file',
      'log-opts': { 'max-size': '10m' },
      'storage-driver': 'btrfs',
      features: { 'containerd-snapshotter': false },
      // The user's own insecure registry stays; the project registry (listed so by earlier pcc versions) is TLS now.
      'insecure-registries': ['lab:5000'],
    });
    expect(await onHost('vagrant2', 'cat /etc/docker/certs.d/10.128.0.1:5000/ca.crt')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(JSON.parse(await onHost('vagrant2', 'cat ~vagrant/.docker/config.json'))).toEqual({ credHelpers: { '10.128.0.1:5000': 'pcc' } });
  });

  it('a second run reports every step unchanged and changes nothing on the host', async () => {
    const before = await Promise.all(['vagrant1', 'vagrant2'].map(fingerprint));
    const { summary } = await runSetup('all');
    for (const host of ['vagrant1', 'vagrant2']) {
      expect(outcomes(summary, host)).toEqual({
        'docker-storage': 'unchanged', 'docker-engine': 'unchanged', overlay: 'unchanged', 'registry-access': 'unchanged', cuda: 'unchanged', 'idle-stop': 'unchanged', 'spot-watch': 'unchanged', swarm: 'unchanged', 'project-share': 'failed',
      });
    }
    expect(await Promise.all(['vagrant1', 'vagrant2'].map(fingerprint))).toEqual(before);
  });

  it('after a restart of the machine the volume is mounted again and Docker is back on btrfs with its images', async () => {
    await onHost('vagrant1', "printf 'FROM scratch\\nCOPY probe /probe\\n' > /tmp/Dockerfile && echo hi > /tmp/probe && docker build -q -t pcc-probe -f /tmp/Dockerfile /tmp >/dev/null");
    // A power cycle behind pcc's back (systemd is the machine's PID 1): only what setup made
    // persistent (the fstab line, Docker ordered after the mount) brings the volume back.
    await execa('docker', ['restart', container('vagrant1')]);
    // Until systemd has booted (before that, systemctl cannot even reach it).
    await onHost('vagrant1', 'for i in $(seq 120); do case $(systemctl is-system-running 2>/dev/null) in running|degraded) exit 0;; esac; sleep 0.5; done; exit 1');
    expect(await onHost('vagrant1', 'findmnt -n -o FSTYPE --mountpoint /var/lib/docker')).toBe('btrfs');
    expect(await onHost('vagrant1', "docker info --format '{{.Driver}}'")).toBe('btrfs');
    expect(await onHost('vagrant1', "docker image inspect pcc-probe --format '{{.Id}}'")).toMatch(/^sha256:/);
  });

  it('grows the volume when VARLIBDOCKER_GB grows and refuses to shrink it', async () => {
    setProjectEnv(4);
    const grown = await runSetup('vagrant1');
    expect(grown.summary.hosts[0]?.steps[0]).toMatchObject({ outcome: 'changed', changes: ['grow the volume from 3 to 4 GiB'] });
    expect(await onHost('vagrant1', "btrfs filesystem show --raw /var/lib/docker | awk '/devid/ {print $4}'")).toBe(String(4 * GIB));
    setProjectEnv(3);
    const refused = await runSetup('vagrant1');
    expect(refused.summary.hosts[0]?.steps[0]).toMatchObject({ outcome: 'failed', message: expect.stringContaining('VARLIBDOCKER_GB=3 is smaller than the existing 4 GiB volume') });
    expect(await onHost('vagrant1', "btrfs filesystem show --raw /var/lib/docker | awk '/devid/ {print $4}'")).toBe(String(4 * GIB));
  });
});
