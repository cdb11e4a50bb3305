import { parseArgs } from 'node:util';
import type { BuildReport } from '../../engine/builds.js';
import type { Command } from '../command.js';
import { openEngine } from '../context.js';
import { print, printJson, type CliIo } from '../io.js';

const common = { json: { type: 'boolean', default: false }, project: { type: 'string' } } as const;

/** The controller's code, loaded when one of its commands runs: it brings dockerode, which every other command would pay for at start. */
const controller = () => import('../../engine/controller/init.js');

function printBuilds(io: CliIo, report: BuildReport): void {
  for (const result of report.results) {
    print(io.stdout, `${result.image.padEnd(20)} ${result.outcome}${result.reason ? `: ${result.reason}` : ''} (${(result.durationMs / 1000).toFixed(1)} s)`);
  }
  for (const folder of report.ignored) print(io.stdout, `ignored docker/${folder.folder}: ${folder.reason}`);
}

export const initCommand: Command = {
  name: 'init',
  usage: 'pcc init [--json]',
  summary: 'bring up (or repair) the controller: registry, /project share, image builds',
  async run(args, io) {
    const { values } = parseArgs({ args, options: common });
    const engine = openEngine(io, values.project);
    try {
      const { initController } = await controller();
      const report = await initController(engine);
      if (values.json) printJson(io, report);
      else {
        for (const host of report.setup) {
          for (const step of host.steps) print(io.stdout, `${step.step.padEnd(18)} ${step.outcome}${step.message ? `: ${step.message}` : ''}`);
        }
        if (report.builds) printBuilds(io, report.builds);
      }
      return report.ok ? 0 : 1;
    } finally {
      engine.ssh.closeAll();
    }
  },
};

export const buildCommand: Command = {
  name: 'build',
  usage: 'pcc build [NAME...] [--json]',
  summary: "build docker/NNN-name images on init and push them to its registry (unchanged ones are skipped)",
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: common });
    const engine = openEngine(io, values.project);
    try {
      const report = await (await controller()).buildOnInit(engine, positionals);
      if (values.json) printJson(io, report);
      else printBuilds(io, report);
      return report.ok ? 0 : 1;
    } finally {
      engine.ssh.closeAll();
    }
  },
};

export const registryCommand: Command = {
  name: 'registry',
  usage: 'pcc registry [--json]',
  summary: "list the registry's repositories with their tags, digests, sizes and build times",
  async run(args, io) {
    const { values } = parseArgs({ args, options: common });
    const engine = openEngine(io, values.project);
    try {
      const { initRegistry, requireInit } = await import('../../engine/controller/init-clients.js');
      const repositories = await initRegistry(engine, requireInit(engine)).repositories();
      if (values.json) printJson(io, repositories);
      else if (repositories.length === 0) print(io.stdout, 'the registry is empty — add docker/NNN-name/Dockerfile folders and run pcc build');
      else {
        for (const repository of repositories) {
          for (const tag of repository.tags) {
            const size = tag.size === undefined ? '-' : `${(tag.size / 1e6).toFixed(1)} MB`;
            print(io.stdout, `${`${repository.name}:${tag.tag}`.padEnd(40)} ${size.padStart(10)}  ${tag.created ?? '-'}  ${tag.digest ?? ''}`);
          }
        }
      }
      return 0;
    } finally {
      engine.ssh.closeAll();
    }
  },
};
