/**
 * bench/tui: the terminal UI's cost. Time to first frame, CPU while idle for 10 s, and CPU and peak
 * memory while the log pane tails a host that prints 5,000 lines per second for 10 s. Targets:
 * ≤ 500 ms, ≤ 1% of a core, ≤ 30% of a core, ≤ 200 MB.
 *
 * Each run is a plain node process of its own (bench/tui-run.ts, transpiled here), in a 160×48
 * terminal whose output is counted and dropped. Beside pcc's UI runs the baseline, a bare Ink app
 * showing the same flood, alternating; each figure is the median of the runs, with its ratio to the
 * baseline's. First frame: from loading the UI's modules (Ink, React, pcc's UI) to the first frame
 * written, while pcc's provider takes 3 s to answer the reconcile the UI starts with (the frame must
 * not wait for it). It measures the built pcc (dist/): run `npm run build` first.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import ts from 'typescript';
import { median } from './fleet.js';

const ROUNDS = 3;

interface Figures {
  firstFrameMs: number;
  /** From the process's start (node itself, pcc's config and engine) to the first frame. */
  fromStartMs: number;
  idle: number;
  flood: number;
  rssBefore: number;
  peakRss: number;
  sent: number;
  tailShown: boolean;
  bytes: number;
}

{
  const source = readFileSync(path.join(import.meta.dirname, 'tui-run.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  // Beside the project's node_modules, so the run resolves ink and react as pcc does.
  const runner = path.resolve('bench', `.tui-run-${process.pid}.mjs`);
  writeFileSync(runner, outputText);
  const run = async (mode: 'pcc' | 'ink'): Promise<Figures> => {
    const { stdout } = await execa('node', [runner, mode], { stdin: 'ignore', env: { ...process.env, CI: undefined } });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Figures;
  };
  const runs: Record<'pcc' | 'ink', Figures[]> = { pcc: [], ink: [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      runs.ink.push(await run('ink'));
      runs.pcc.push(await run('pcc'));
    }
  } finally {
    rmSync(runner, { force: true });
  }
  const of = (mode: 'pcc' | 'ink', pick: (figures: Figures) => number) => median(runs[mode].map(pick));
  const rows = [
    ['time to first frame', (f: Figures) => f.firstFrameMs, (v: number) => `${v.toFixed(0)} ms`, 500, '≤ 500 ms'],
    ['idle CPU over 10 s', (f: Figures) => f.idle * 100, (v: number) => `${v.toFixed(2)}% of a core`, 1, '≤ 1%'],
    ['CPU, log pane at 5000 lines/s for 10 s', (f: Figures) => f.flood * 100, (v: number) => `${v.toFixed(1)}% of a core`, 30, '≤ 30%'],
    ['peak RSS meanwhile', (f: Figures) => f.peakRss / 2 ** 20, (v: number) => `${v.toFixed(0)} MB`, 200, '≤ 200 MB'],
  ] as const;
  console.log(`${''.padEnd(40)} ${'pcc'.padStart(16)} ${'bare Ink'.padStart(16)}   ratio   target`);
  for (const [what, pick, show, limit, target] of rows) {
    const pcc = of('pcc', pick);
    const ink = of('ink', pick);
    console.log(`${what.padEnd(40)} ${show(pcc).padStart(16)} ${show(ink).padStart(16)}   ${(pcc / ink).toFixed(2)}×   ${target.padEnd(9)} ${pcc <= limit ? 'met' : 'MISSED'}`);
  }
  console.log(`from process start to the first frame: pcc ${of('pcc', (f) => f.fromStartMs).toFixed(0)} ms, bare Ink ${of('ink', (f) => f.fromStartMs).toFixed(0)} ms`);
  console.log(`RSS before the flood: pcc ${of('pcc', (f) => f.rssBefore / 2 ** 20).toFixed(0)} MB, bare Ink ${of('ink', (f) => f.rssBefore / 2 ** 20).toFixed(0)} MB`);
  const last = runs.pcc.at(-1);
  if (last) console.log(`lines sent: ${last.sent}; pcc's pane showed the last one: ${last.tailShown ? 'yes' : 'no'}; bytes drawn: ${(last.bytes / 1e6).toFixed(1)} MB (medians of ${ROUNDS} runs each)`);
}
