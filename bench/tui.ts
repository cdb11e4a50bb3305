/**
 * bench/tui: the terminal UI's cost. Time to first frame, CPU while idle for 10 s, and CPU and memory
 * while the log pane tails a host that prints 5,000 lines per second for 10 s. Targets: ≤ 500 ms,
 * ≤ 1% of a core, ≤ 30% of a core, ≤ 200 MB.
 *
 * Runs the UI in this process with a 160×48 terminal whose output is counted and dropped, and an
 * engine without providers, so only the UI's own work is measured (the lines arrive as the engine's
 * `host.output` events). First frame: from loading the UI's modules to the first frame written.
 * It measures the built pcc (dist/, as `pcc` runs it): run `npm run build` first.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

const LINES_PER_SECOND = 5_000;
const SECONDS = 10;

/** A terminal's output side: a TTY of a fixed size that keeps nothing. */
class Screen extends Writable {
  readonly isTTY = true;
  readonly columns = 160;
  readonly rows = 48;
  bytes = 0;
  last = '';
  firstFrameAt: number | undefined;

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    const text = chunk.toString('utf8');
    this.bytes += chunk.length;
    // Enough of the latest output to hold the last frame.
    this.last = (this.last + text).slice(-50_000);
    if (this.firstFrameAt === undefined && text.includes('1 Hosts')) this.firstFrameAt = performance.now();
    done();
  }
}

/** A terminal's input side that Ink can put in raw mode. */
class Keyboard extends PassThrough {
  readonly isTTY = true;
  setRawMode(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** CPU time this process used during `work`, as a share of one core. */
async function cpuShare(work: () => Promise<void>): Promise<number> {
  const startCpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const used = process.cpuUsage(startCpu);
  return (used.user + used.system) / 1000 / (performance.now() - started);
}

const base = mkdtempSync(path.join(tmpdir(), 'pcc-bench-tui-'));
try {
  const root = path.join(base, 'bench');
  mkdirSync(path.join(root, 'config'), { recursive: true });
  writeFileSync(path.join(root, 'config', 'project.env'), 'PROJECT_NAME=benchtui\n');
  // As `pcc` runs it: React's production build; and Ink draws nothing live when it believes it runs in CI.
  process.env.NODE_ENV ??= 'production';
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  const built = (file: string) => import(pathToFileURL(path.resolve('dist', file)).href);
  const { loadConfig } = (await built('engine/config/load.js')) as typeof import('../src/engine/config/load.js');
  const { createEngine } = (await built('engine/engine.js')) as typeof import('../src/engine/engine.js');
  const { UserPreferences } = (await built('engine/preferences.js')) as typeof import('../src/engine/preferences.js');
  const engine = createEngine(loadConfig(root, {}), { env: {}, providers: [] });
  await engine.state.update((state) => {
    state.hosts.bench1 = {
      name: 'bench1', provider: 'vagrant', role: 'compute', computeType: 'cpu', state: 'running', extras: {},
      ssh: { host: '127.0.0.1', port: 2200, user: 'vagrant', identityFile: '/dev/null' }, createdAt: '', updatedAt: '',
    };
  });
  const screen = new Screen();
  const keyboard = new Keyboard();

  const opened = performance.now();
  const [{ render }, { createElement }, { AppContainer }] = await Promise.all([
    import('ink'),
    import('react'),
    built('ui/app-container.js') as Promise<typeof import('../src/ui/app-container.js')>,
  ]);
  const preferences = new UserPreferences({ XDG_CONFIG_HOME: base }, () => undefined);
  const app = render(createElement(AppContainer, { engine, preferences }), {
    stdout: screen as unknown as NodeJS.WriteStream,
    stdin: keyboard as unknown as NodeJS.ReadStream,
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: 15,
  });
  while (screen.firstFrameAt === undefined) await sleep(1);
  const firstFrameMs = screen.firstFrameAt - opened;

  // Tail bench1's log: select it in Hosts (row 2, under its provider) and press l.
  await sleep(1000);
  for (const key of ['j', 'l']) {
    keyboard.write(key);
    await sleep(200);
  }
  if (!screen.last.includes('host bench1 · following')) throw new Error(`the log pane did not switch to bench1; the screen shows:\n${screen.last}`);
  await sleep(1000);

  const rssBefore = process.memoryUsage().rss;
  const idle = await cpuShare(() => sleep(SECONDS * 1000));

  let sent = 0;
  let peakRss = process.memoryUsage().rss;
  const flood = await cpuShare(async () => {
    const started = performance.now();
    while (performance.now() - started < SECONDS * 1000) {
      // Catch up to the rate, so timer jitter does not lower it.
      const due = Math.floor(((performance.now() - started) / 1000) * LINES_PER_SECOND);
      for (; sent < due; sent++) engine.events.emit({ type: 'host.output', host: 'bench1', stream: 'stdout', line: `bench line ${sent} ${'x'.repeat(60)}` });
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      await sleep(10);
    }
  });
  await sleep(300);
  const tailShown = screen.last.includes(`bench line ${sent - 1} `);
  app.unmount();

  const figures = [
    ['time to first frame', `${firstFrameMs.toFixed(0)} ms`, '≤ 500 ms', firstFrameMs <= 500],
    [`idle CPU over ${SECONDS} s`, `${(idle * 100).toFixed(2)}% of a core`, '≤ 1%', idle <= 0.01],
    [`CPU, log pane at ${LINES_PER_SECOND} lines/s for ${SECONDS} s`, `${(flood * 100).toFixed(1)}% of a core`, '≤ 30%', flood <= 0.3],
    ['peak RSS meanwhile', `${(peakRss / 2 ** 20).toFixed(0)} MB`, '≤ 200 MB', peakRss <= 200 * 2 ** 20],
  ] as const;
  for (const [what, value, target, met] of figures) console.log(`${what.padEnd(44)} ${value.padStart(18)}   target ${target.padEnd(9)} ${met ? 'met' : 'MISSED'}`);
  console.log(`RSS before the flood: ${(rssBefore / 2 ** 20).toFixed(0)} MB`);
  console.log(`lines sent: ${sent}; the pane showed the last one: ${tailShown ? 'yes' : 'no'}; bytes drawn: ${(screen.bytes / 1e6).toFixed(1)} MB`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
