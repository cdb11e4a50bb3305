import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ProgressReporter } from '../../src/cli/progress.js';
import type { EngineEvent } from '../../src/engine/events.js';

class Terminal extends Writable {
  text = '';
  constructor(readonly isTTY: boolean, readonly columns = 120) {
    super();
  }
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const mkfsNote = 'NOTE: several default settings have changed in version 5.15, please make sure';
const setupRun: EngineEvent[] = [
  { type: 'task', task: 'setup', phase: 'started', title: 'set up vagrant1' },
  { type: 'setup', host: 'vagrant1', step: 'docker-storage', phase: 'started' },
  { type: 'host.output', host: 'vagrant1', stream: 'stdout', line: mkfsNote },
  { type: 'setup', host: 'vagrant1', step: 'docker-storage', phase: 'changed', changes: ['make the volume'] },
  { type: 'setup', host: 'vagrant1', step: 'docker-engine', phase: 'started' },
  { type: 'host.output', host: 'vagrant1', stream: 'stdout', line: 'Setting up docker.io (20.10.24) ...' },
  { type: 'host.output', host: 'vagrant1', stream: 'stderr', line: 'E: Unable to locate package docker.io' },
  { type: 'setup', host: 'vagrant1', step: 'docker-engine', phase: 'failed', message: 'apt-get install failed' },
  { type: 'task', task: 'setup', phase: 'failed', title: 'set up vagrant1' },
];

describe('progress of a headless command', () => {
  it("keeps the tools' output out of view and shows the failing host's last lines under its failure", () => {
    const out = new Terminal(false);
    const progress = new ProgressReporter(out);
    for (const event of setupRun) progress.handle(event);
    const lines = out.text.split('\n');
    expect(lines).toContain('    vagrant1: docker-storage changed');
    expect(lines).toContain('    vagrant1: docker-engine failed: apt-get install failed');
    // The mkfs note belongs to a step that succeeded: never shown. The failed step's output is.
    expect(out.text).not.toContain('NOTE: several default settings');
    const failedAt = lines.indexOf('    vagrant1: docker-engine failed: apt-get install failed');
    expect(lines.slice(failedAt + 1, failedAt + 3)).toEqual(['      | Setting up docker.io (20.10.24) ...', '      | E: Unable to locate package docker.io']);
    expect(out.text).not.toMatch(/\r|\x1b/);
  });

  it('prints milestones as plain lines without a terminal: Vagrant stages and Dockerfile steps', () => {
    const out = new Terminal(false);
    const progress = new ProgressReporter(out);
    progress.handle({ type: 'host.output', host: 'vagrant1', stream: 'stdout', line: '==> Creating the container...' });
    progress.handle({ type: 'host.output', host: 'vagrant1', stream: 'stdout', line: 'container id: 0123' });
    progress.handle({ type: 'build', image: 'mybusybox', phase: 'building' });
    progress.handle({ type: 'build.output', image: 'mybusybox', line: 'Step 2/3 : RUN make' });
    progress.handle({ type: 'build.output', image: 'mybusybox', line: ' ---> Running in 4f2a' });
    expect(out.text).toBe('    vagrant1| ==> Creating the container...\n    mybusybox: Step 2/3 : RUN make\n');
  });

  it('on a terminal, one live line says what each host is doing, and is gone when the work ends', async () => {
    const out = new Terminal(true);
    const progress = new ProgressReporter(out);
    for (const event of setupRun.slice(0, 6)) progress.handle(event);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(out.text).toContain('vagrant1: docker-engine — Setting up docker.io (20.10.24) ...');
    for (const event of setupRun.slice(6)) progress.handle(event);
    progress.close();
    // Every live line was cleared before a printed line and at the end.
    const afterLast = out.text.slice(out.text.lastIndexOf('\n') + 1);
    expect(afterLast.replaceAll('\r\x1b[K', '')).toBe('');
  });
});
