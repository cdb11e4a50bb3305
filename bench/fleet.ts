import { execa } from 'execa';
import type { Config } from '../src/core/config/load.js';
import { registryCredentials } from '../src/engine/registry-credentials.js';

/** Brings the test fleet up (idempotent) and puts its settings into this process's environment. */
export async function fleetEnv(): Promise<void> {
  const { stdout } = await execa('bash', ['test/fleet/fleet-up.sh'], { stderr: 'inherit' });
  for (const line of stdout.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) process.env[line.slice(0, at)] = line.slice(at + 1);
  }
}

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** bench/setup-floor.sh's registry inputs (the CA and the login pcc's setup gives hosts), as lines put before the script on its stdin. */
export function floorRegistryInputs(config: Config): string {
  const credentials = registryCredentials(config);
  const login = JSON.stringify({ ServerURL: config.hosts.compute.registryHost, Username: credentials.username, Secret: credentials.password.reveal() });
  const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
  return `CA_CERT=${quote(credentials.caCert)}\nLOGIN_JSON=${quote(`${login}\n`)}\n`;
}
