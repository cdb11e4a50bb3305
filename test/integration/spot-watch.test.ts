import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spotWatch } from '../../src/engine/setup/spot-watch.js';
import { parseFacts, stepCall, stepScript } from '../../src/engine/setup/step.js';
import { makeFleetProject, pcc, removeProjectContainers } from '../helpers/pcc.js';

/**
 * EC2's instance metadata service as the spot watch uses it (IMDSv2): a token from a PUT, then the
 * notice's path, which answers 404 until EC2 decides to take the capacity back. Requests without the
 * token are refused, as IMDSv2 does when a launch requires tokens.
 */
function fakeMetadata() {
  const seen = { tokens: 0, asked: 0, withoutToken: 0 };
  let notice: string | undefined;
  const server: Server = createServer((request, response) => {
    if (request.method === 'PUT' && request.url === '/latest/api/token' && request.headers['x-aws-ec2-metadata-token-ttl-seconds']) {
      seen.tokens++;
      response.end('token-1');
    } else if (request.method === 'GET' && request.url === '/latest/meta-data/spot/instance-action') {
      if (request.headers['x-aws-ec2-metadata-token'] !== 'token-1') {
        seen.withoutToken++;
        response.writeHead(401).end();
        return;
      }
      seen.asked++;
      if (notice) response.end(notice);
      else response.writeHead(404).end();
    } else {
      response.writeHead(404).end();
    }
  });
  return { server, seen, announce: (text: string) => void (notice = text) };
}

const until = async (what: string, check: () => Promise<boolean>, seconds: number): Promise<void> => {
  for (let tries = 0; tries < seconds; tries++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('spot interruption watch, on the host', () => {
  const project = makeFleetProject('spot');
  const container = `pcc-${project.name}-vagrant1`;
  const onHost = async (command: string, stdin?: string) =>
    (await execa('docker', ['exec', '-i', container, 'bash', '-c', command], stdin === undefined ? {} : { input: stdin })).stdout.trim();
  const metadata = fakeMetadata();
  let inputs: Record<string, string> = {};

  beforeAll(async () => {
    const up = await pcc(project, ['up', 'vagrant', '--count', '1']);
    expect(up.exitCode, up.stderr).toBe(0);
    // Docker as on every set-up host (the fleet has no /project to mount: that step alone fails).
    const setup = await pcc(project, ['setup', 'vagrant1', '--json']);
    const steps = (JSON.parse(setup.stdout) as { hosts: { steps: { step: string; outcome: string }[] }[] }).hosts[0]?.steps ?? [];
    expect(steps.find((step) => step.step === 'docker-engine')?.outcome).toBe('changed');
    await new Promise<void>((resolve) => metadata.server.listen(0, '0.0.0.0', resolve));
    // The host reaches this process at its default gateway, as an instance reaches 169.254.169.254.
    const gateway = await onHost("ip route | awk '/^default/ { print $3; exit }'");
    inputs = { SPOT: 'yes', METADATA: `http://${gateway}:${(metadata.server.address() as AddressInfo).port}` };
    await execa('bash', ['-c', `docker save busybox:stable | docker exec -i ${container} docker load -q >/dev/null`]);
    // Work that says when it gets SIGTERM and exits cleanly on it (a SIGKILL would end it with 137).
    await onHost(`docker run -d --name work busybox:stable sh -c 'trap "echo got SIGTERM; exit 0" TERM; while true; do sleep 1; done' >/dev/null`);
  });
  afterAll(async () => {
    metadata.server.close();
    await pcc(project, ['destroy', 'all', '--yes']);
    await removeProjectContainers(project);
  });

  const inspect = async () => parseFacts(await onHost('bash -s', stepScript([spotWatch], [stepCall(spotWatch, 'inspect', inputs)])));

  it('installs a service that asks for the notice with a token and leaves the work alone while there is none', async () => {
    expect(await inspect()).toMatchObject({ files: 'absent' });
    await onHost('bash -s', stepScript([spotWatch], [stepCall(spotWatch, 'apply', inputs)]));
    expect(await inspect()).toMatchObject({ files: 'ok', service: 'active/enabled' });
    await until('the watch to ask twice', async () => metadata.seen.asked >= 2, 30);
    expect(metadata.seen.withoutToken).toBe(0);
    expect(await onHost("docker ps --format '{{.Names}}'")).toBe('work');
    expect(await onHost('cat /var/lib/pcc/last-stop 2>/dev/null || echo none')).toBe('none');
  });

  it('on the notice it stops the containers with SIGTERM and records the interruption where pcc reads it', async () => {
    metadata.announce('{"action": "stop", "time": "2026-12-01T04:02:00Z"}');
    await until('the work to stop', async () => (await onHost("docker ps -q --filter name=work")) === '', 60);
    expect(await onHost("docker inspect -f '{{.State.ExitCode}}' work")).toBe('0');
    expect(await onHost('docker logs work')).toContain('got SIGTERM');
    expect(await onHost('cat /var/lib/pcc/last-stop')).toMatch(/^pcc-stop: spot interruption at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(await onHost('journalctl -u pcc-spot-watch.service --no-pager -o cat')).toContain('spot interruption notice: {"action": "stop"');
  });

  it('on a host that is no longer spot, setup removes the watch', async () => {
    const off = { ...inputs, SPOT: '' };
    await onHost('bash -s', stepScript([spotWatch], [stepCall(spotWatch, 'apply', off)]));
    expect(await onHost('systemctl is-enabled pcc-spot-watch.service 2>&1 || true; ls /usr/local/lib/pcc/spot-watch 2>&1 || true')).toMatch(/No such file/);
    inputs = off;
    expect(await inspect()).toMatchObject({ files: 'absent' });
  });
});
