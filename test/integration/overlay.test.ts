import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerStatus } from '../../src/engine/overlay/peer-status.js';
import { makeFleetProject, pcc, removeProjectContainers } from '../helpers/pcc.js';
import { filesUnder } from '../helpers/project.js';

interface Summary { hosts: { host: string; steps: { step: string; outcome: string; message?: string }[] }[] }

describe('the WireGuard overlay on fleet machines (wireguard-go)', () => {
  const project = makeFleetProject('ovl');
  const container = (host: string) => `pcc-${project.name}-${host}`;
  const onHost = async (host: string, command: string) =>
    (await execa('docker', ['exec', container(host), 'bash', '-lc', command])).stdout.trim();
  /** Everything pcc printed in this file, searched for private keys at the end. */
  const printed: string[] = [];
  const run = async (args: string[]) => {
    const result = await pcc(project, args);
    printed.push(result.stdout, result.stderr);
    return result;
  };
  const peers = async (): Promise<PeerStatus[]> => {
    const result = await run(['peers', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as PeerStatus[];
  };
  let targetAddress = '';

  beforeAll(async () => {
    cpSync(path.resolve('docker/999-mybusybox'), path.join(project.root, 'docker', '999-mybusybox'), { recursive: true });
    const init = await run(['init', '--json']);
    expect(init.exitCode, init.stderr).toBe(0);
    const up = await run(['up', 'vagrant', '--count', '3']);
    expect(up.exitCode, up.stderr).toBe(0);
    const setup = await run(['setup', 'cpu', '--json']);
    const summary = JSON.parse(setup.stdout) as Summary;
    for (const host of summary.hosts) {
      const overlay = host.steps.find((step) => step.step === 'overlay');
      expect(overlay?.outcome, `${host.host}: ${overlay?.message}`).toBe('changed');
    }
  }, 1_200_000);
  afterAll(async () => {
    await pcc(project, ['destroy', 'all', '--yes']);
    await removeProjectContainers(project);
  }, 300_000);

  it('gives init 10.128.0.1 and each host its own address and container /24, routed over pcc0', async () => {
    expect(await onHost('init', 'ip -o -4 address show dev pcc0')).toContain('inet 10.128.0.1/16');
    const addresses = await Promise.all(['vagrant1', 'vagrant2', 'vagrant3'].map((host) => onHost(host, "ip -o -4 address show dev pcc0 | awk '{print $4}'")));
    expect(new Set(addresses).size).toBe(3);
    for (const address of addresses) expect(address).toMatch(/^10\.128\.0\.\d+\/16$/);
    expect(await onHost('vagrant1', 'ip route get 10.128.0.1')).toMatch(/dev pcc0/);
    expect(await onHost('vagrant1', "docker network inspect pcc -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}'")).toMatch(/^10\.128\.\d+\.0\/24$/);
  });

  it('every host reaches the registry at $REGISTRY_HOST over the overlay', async () => {
    for (const host of ['vagrant1', 'vagrant2', 'vagrant3']) {
      expect(await onHost(host, 'echo $REGISTRY_HOST')).toBe('10.128.0.1:5000');
      expect(await onHost(host, 'docker pull -q $REGISTRY_HOST/mybusybox')).toContain('10.128.0.1:5000/mybusybox');
    }
  });

  it('a container on vagrant1 pings a container on vagrant2 by its overlay address', async () => {
    await onHost('vagrant2', 'docker run -d --name target --restart always --network pcc $REGISTRY_HOST/mybusybox sleep 100000');
    targetAddress = await onHost('vagrant2', "docker inspect -f '{{.NetworkSettings.Networks.pcc.IPAddress}}' target");
    const subnet = await onHost('vagrant2', "docker network inspect pcc -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}'");
    expect(targetAddress.split('.').slice(0, 3).join('.')).toBe(subnet.split('.').slice(0, 3).join('.'));
    const ping = await onHost('vagrant1', `docker run --rm --network pcc $REGISTRY_HOST/mybusybox ping -c 3 -W 2 ${targetAddress}`);
    expect(ping).toMatch(/3 packets transmitted, 3 packets received/);
  });

  it('pcc peers shows every member with a recent handshake', async () => {
    const list = await peers();
    expect(list.map((peer) => peer.host)).toEqual(['init', 'vagrant1', 'vagrant2', 'vagrant3']);
    expect(list[0]?.overlayAddress).toBe('10.128.0.1');
    for (const peer of list) {
      expect(peer.state, peer.host).toBe('up');
      expect(peer.handshakeAgeS).toBeLessThan(180);
      expect(peer.rxBytes).toBeGreaterThan(0);
      expect(peer.endpoint).toMatch(/:51820$/);
    }
  });

  it('destroying vagrant3 removes it from every peer list while vagrant1 and vagrant2 keep talking', async () => {
    const key3 = await onHost('vagrant3', 'wg pubkey < /etc/pcc/overlay/private.key');
    // A container on vagrant1 pings vagrant2's container five times a second throughout the destroy.
    await onHost('vagrant1', `docker run -d --name pinger --network pcc $REGISTRY_HOST/mybusybox sh -c 'ping -i 0.2 ${targetAddress}; sleep 600'`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const destroyed = await run(['destroy', 'vagrant3', '--yes']);
    expect(destroyed.exitCode, destroyed.stderr).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await onHost('vagrant1', "docker exec pinger sh -c 'kill -INT $(pidof ping)' && sleep 1");
    const stdout = await onHost('vagrant1', 'docker logs pinger 2>&1; docker rm -f pinger >/dev/null');
    const [, sent, received] = /(\d+) packets transmitted, (\d+) packets received/.exec(stdout) ?? [];
    expect(Number(sent)).toBeGreaterThan(10);
    expect(Number(received)).toBe(Number(sent));
    for (const host of ['init', 'vagrant1', 'vagrant2']) expect(await onHost(host, 'wg show pcc0 peers')).not.toContain(key3);
    expect((await peers()).map((peer) => peer.host)).toEqual(['init', 'vagrant1', 'vagrant2']);
  }, 300_000);

  it('after save and resume, vagrant2 is back on the overlay with nothing done by hand', async () => {
    const beforeOnVagrant1 = await onHost('vagrant1', 'cat /etc/pcc/overlay/peers.conf');
    expect((await run(['save', 'vagrant2'])).exitCode).toBe(0);
    const resumed = await run(['resume', 'vagrant2']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const address2 = (await onHost('vagrant2', "ip -o -4 address show dev pcc0 | awk '{print $4}'")).split('/')[0];
    expect(await onHost('vagrant1', `ping -c 3 -W 2 ${address2}`)).toMatch(/3 received/);
    const ping = await onHost('vagrant1', `docker run --rm --network pcc $REGISTRY_HOST/mybusybox ping -c 3 -W 2 ${targetAddress}`);
    expect(ping).toMatch(/3 packets received/);
    // Only the endpoint of vagrant2 may have changed in vagrant1's peers (the machine may get a new address).
    const afterOnVagrant1 = await onHost('vagrant1', 'cat /etc/pcc/overlay/peers.conf');
    expect(afterOnVagrant1.replace(/Endpoint = .*/g, '')).toBe(beforeOnVagrant1.replace(/Endpoint = .*/g, ''));
    const vagrant2 = (await peers()).find((peer) => peer.host === 'vagrant2');
    expect(vagrant2?.state).toBe('up');
  });

  it('no private key appears in pcc state, logs, ssh config or output', async () => {
    const keys = await Promise.all(['init', 'vagrant1', 'vagrant2'].map((host) => onHost(host, 'cat /etc/pcc/overlay/private.key')));
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const files = [...filesUnder(path.join(project.root, '.pcc')), ...filesUnder(project.home)].filter((file) => !file.includes(`${path.sep}registry${path.sep}`));
    const texts = [...files.map((file) => readFileSync(file, 'latin1')), ...printed];
    expect(files.some((file) => file.endsWith('state.json'))).toBe(true);
    for (const key of keys) for (const text of texts) expect(text.includes(key)).toBe(false);
  });
});
