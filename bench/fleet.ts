import { execa } from 'execa';

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
