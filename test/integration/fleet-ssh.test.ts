import { Client, utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleetMachine, type FleetMachine } from '../helpers/fleet.js';

function keyBlob(openSshPublicKey: string): Buffer {
  const parsed = utils.parseKey(openSshPublicKey);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return key.getPublicSSH();
}

function runOverSsh(machine: FleetMachine, command: string): Promise<{ stdout: string; stderr: string; code: number | null; hostKeyMatched: boolean }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostKeyMatched = false;
    client
      .on('ready', () => {
        client.exec(command, (error, stream) => {
          if (error) return reject(error);
          let stdout = '';
          let stderr = '';
          stream.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          stream.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          stream.on('close', (code: number | null) => {
            client.end();
            resolve({ stdout, stderr, code, hostKeyMatched });
          });
        });
      })
      .on('error', reject)
      .connect({
        host: machine.address,
        port: 22,
        username: 'vagrant',
        password: 'vagrant',
        hostVerifier: (key: Buffer) => (hostKeyMatched = key.equals(keyBlob(machine.hostKey))),
        readyTimeout: 20_000,
      });
  });
}

describe('fleet host image', () => {
  let machine: FleetMachine;
  beforeAll(async () => {
    machine = await startFleetMachine('pcc-test-fleet-ssh');
  });
  afterAll(async () => {
    await machine?.remove();
  });

  it('runs a command over ssh2 with its output and exit code, on a pinned host key', async () => {
    const result = await runOverSsh(machine, 'echo "hello from $(hostname)"; id -un; echo oops >&2; exit 3');
    expect(result.hostKeyMatched).toBe(true);
    expect(result.stdout).toBe('hello from pcc-test-fleet-ssh\nvagrant\n');
    expect(result.stderr).toBe('oops\n');
    expect(result.code).toBe(3);
  });

  it('boots systemd as PID 1 with its own host keys and passwordless sudo', async () => {
    const result = await runOverSsh(machine, 'ps -o comm= -p 1; systemctl is-system-running; sudo -n id -u');
    expect(result.stdout.split('\n').slice(0, 3)).toEqual(['systemd', 'running', '0']);
    expect(result.code).toBe(0);
  });
});
