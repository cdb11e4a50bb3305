/**
 * One run of bench/tui, in a plain node process of its own (bench/tui.ts transpiles this file and
 * starts it), so the figures are the UI's as `pcc` runs it: no TypeScript loader in the process.
 *
 * `pcc`: pcc's UI, built (dist/), with an engine without providers; the flood arrives as the engine's
 * `host.output` events for the host whose log the pane tails. `ink`: the baseline, a bare Ink app
 * that shows the tail of the same flood in a box of the same size. Prints the figures as JSON.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

const LINES_PER_SECOND = 5_000;
const SECONDS = 10;
const COLUMNS = 160;
const ROWS = 48;
/** How long the providers take to answer the reconcile the UI starts with. */
const RECONCILE_MS = 3_000;

/** A terminal's output side: a TTY of a fixed size that keeps nothing but the latest output. */
class Screen extends Writable {
  readonly isTTY = true;
  readonly columns = COLUMNS;
  readonly rows = ROWS;
  bytes = 0;
  last = '';
  firstFrameAt: number | undefined;

  constructor(readonly firstFrameText: string) {
    super();
  }

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    const text = chunk.toString('utf8');
    this.bytes += chunk.length;
    this.last = (this.last + text).slice(-50_000);
    if (this.firstFrameAt === undefined && text.includes(this.firstFrameText)) this.firstFrameAt = performance.now();
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

async function cpuShare(work: () => Promise<void>): Promise<number> {
  const startCpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const used = process.cpuUsage(startCpu);
  return (used.user + used.system) / 1000 / (performance.now() - started);
}

const mode = process.argv[2];
if (mode !== 'pcc' && mode !== 'ink') throw new Error('usage: tui-run pcc|ink');
// As `pcc` runs it: React's production build; and Ink draws nothing live when it believes it runs in CI.
process.env.NODE_ENV = 'production';
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
const built = (file: string) => import(pathToFileURL(path.resolve('dist', file)).href);
const base = mkdtempSync(path.join(tmpdir(), 'pcc-bench-tui-'));
try {
  const screen = new Screen(mode === 'pcc' ? '1 Hosts' : 'bench baseline');
  const keyboard = new Keyboard();
  const inkOptions = { stdout: screen as unknown as NodeJS.WriteStream, stdin: keyboard as unknown as NodeJS.ReadStream, exitOnCtrlC: false, patchConsole: false, maxFps: 15 };
  let flood: (line: string) => void;
  let unmount: () => void;
  let opened: number;

  if (mode === 'pcc') {
    const root = path.join(base, 'bench');
    mkdirSync(path.join(root, 'config'), { recursive: true });
    writeFileSync(path.join(root, 'config', 'project.env'), 'PROJECT_NAME=benchtui\n');
    // What `pcc` has loaded before the UI: its config and engine.
    const { loadConfig } = (await built('core/config/load.js')) as typeof import('../src/core/config/load.js');
    const { createEngine } = (await built('engine/engine.js')) as typeof import('../src/engine/engine.js');
    const { UserPreferences } = (await built('engine/preferences.js')) as typeof import('../src/engine/preferences.js');
    // The provider answers only after RECONCILE_MS, as `vagrant status` or a slow cloud API would: the
    // first frame must not wait for the reconcile that the UI starts with.
    const slowProvider = {
      name: 'vagrant' as const,
      capabilities: () => ({ canSuspend: true }),
      list: async () => {
        await sleep(RECONCILE_MS);
        return [{ name: 'bench1', provider: 'vagrant' as const, role: 'compute' as const, computeType: 'cpu' as const, state: 'running' as const, extras: {} }];
      },
      up: async () => [],
      start: async () => undefined,
      save: async () => undefined,
      destroy: async () => undefined,
      sshEndpoint: async () => ({ host: '127.0.0.1', port: 2200, user: 'vagrant', identityFile: '/dev/null' }),
    };
    const engine = createEngine(loadConfig(root, {}), { env: {}, providers: [slowProvider] });
    await engine.state.update((state) => {
      state.hosts.bench1 = {
        name: 'bench1', provider: 'vagrant', role: 'compute', computeType: 'cpu', state: 'running', extras: {},
        ssh: { host: '127.0.0.1', port: 2200, user: 'vagrant', identityFile: '/dev/null' }, createdAt: '', updatedAt: '',
      };
    });
    const preferences = new UserPreferences({ XDG_CONFIG_HOME: base }, () => undefined);
    opened = performance.now();
    const [{ render }, { createElement }, { AppContainer }] = await Promise.all([
      import('ink'),
      import('react'),
      built('ui/app-container.js') as Promise<typeof import('../src/ui/app-container.js')>,
    ]);
    const app = render(createElement(AppContainer, { engine, preferences }), inkOptions);
    unmount = () => app.unmount();
    while (screen.firstFrameAt === undefined) await sleep(1);
    // Once the first reconcile has answered (idle is measured after it), tail bench1's log: select it
    // in Hosts (row 2, under its provider) and press l.
    await sleep(RECONCILE_MS + 1000);
    for (const key of ['j', 'l']) {
      keyboard.write(key);
      await sleep(200);
    }
    if (!screen.last.includes('host bench1 · following')) throw new Error(`the log pane did not switch to bench1; the screen shows:\n${screen.last}`);
    flood = (line) => engine.events.emit({ type: 'host.output', host: 'bench1', stream: 'stdout', line });
  } else {
    opened = performance.now();
    const [{ render, Box, Text }, { createElement, useEffect, useState }] = await Promise.all([import('ink'), import('react')]);
    const listeners = new Set<(line: string) => void>();
    // The same terminal, a box of the last lines, batched every 50 ms like pcc's events.
    function Baseline() {
      const [lines, setLines] = useState<string[]>(['bench baseline']);
      useEffect(() => {
        let queue: string[] = [];
        let timer: NodeJS.Timeout | undefined;
        const listener = (line: string) => {
          queue.push(line);
          timer ??= setTimeout(() => {
            timer = undefined;
            const batch = queue;
            queue = [];
            setLines((current) => [...current, ...batch].slice(-(ROWS - 2)));
          }, 50);
        };
        listeners.add(listener);
        return () => void listeners.delete(listener);
      }, []);
      return createElement(Box, { borderStyle: 'round', flexDirection: 'column', width: COLUMNS, height: ROWS - 1 }, ...lines.map((line, index) => createElement(Text, { key: index, wrap: 'truncate-end' }, line)));
    }
    const app = render(createElement(Baseline), inkOptions);
    unmount = () => app.unmount();
    while (screen.firstFrameAt === undefined) await sleep(1);
    await sleep(1400);
    flood = (line) => {
      for (const listener of listeners) listener(line);
    };
  }
  const firstFrameMs = (screen.firstFrameAt ?? 0) - opened;
  await sleep(1000);

  const rssBefore = process.memoryUsage().rss;
  const idle = await cpuShare(() => sleep(SECONDS * 1000));
  let sent = 0;
  let peakRss = process.memoryUsage().rss;
  const floodCpu = await cpuShare(async () => {
    const started = performance.now();
    while (performance.now() - started < SECONDS * 1000) {
      // Catch up to the rate, so timer jitter does not lower it.
      const due = Math.floor(((performance.now() - started) / 1000) * LINES_PER_SECOND);
      for (; sent < due; sent++) flood(`bench line ${sent} ${'x'.repeat(60)}`);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      await sleep(10);
    }
  });
  await sleep(300);
  const tailShown = screen.last.includes(`bench line ${sent - 1} `);
  unmount();
  console.log(JSON.stringify({ firstFrameMs, fromStartMs: screen.firstFrameAt ?? 0, idle, flood: floodCpu, rssBefore, peakRss, sent, tailShown, bytes: screen.bytes }));
} finally {
  rmSync(base, { recursive: true, force: true });
}
