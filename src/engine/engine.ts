import os from 'node:os';
import path from 'node:path';
import { OnDemandEc2Provider } from '../providers/ec2/ec2-on-demand.js';
import type { Provider, ProviderName, ProviderOutput } from '../providers/provider.js';
import { SshProvider } from '../providers/ssh/ssh-provider.js';
import { VagrantProvider } from '../providers/vagrant/vagrant-provider.js';
import { toolEnv, type Config } from '../core/config/load.js';
import { EngineEvents } from './events.js';
import { HostLogs } from './host-logs.js';
import { RunRecords } from './run-records.js';
import { KnownHosts } from './ssh/known-hosts.js';
import { SshPool } from './ssh/pool.js';
import { SshConfigFiles } from './ssh/ssh-config.js';
import { StateStore } from './state.js';

/** The services one pcc run works with. Built once per run and passed explicitly (no globals). */
export interface Engine {
  config: Config;
  /** The environment pcc runs in (DOCKER_HOST of the workstation's engine, AWS settings ...). */
  env: NodeJS.ProcessEnv;
  events: EngineEvents;
  state: StateStore;
  logs: HostLogs;
  /** `pcc run`'s records in `.pcc/runs/`. */
  runs: RunRecords;
  knownHosts: KnownHosts;
  ssh: SshPool;
  sshConfig: SshConfigFiles;
  providers: Map<ProviderName, Provider>;
}

export interface EngineOptions {
  env?: NodeJS.ProcessEnv;
  /** The user's home folder, whose ~/.ssh/config gets pcc's Include line. Default: $HOME. */
  home?: string;
  /** Replaces the providers built from config (tests). */
  providers?: Provider[];
}

export function createEngine(config: Config, options: EngineOptions = {}): Engine {
  const env = toolEnv(config, options.env ?? process.env);
  const events = new EngineEvents();
  const logs = new HostLogs(path.join(config.stateDir, 'logs'));
  const knownHosts = new KnownHosts(path.join(config.privateDir, 'known_hosts'));
  const ssh = new SshPool({
    knownHosts,
    onOutput: (host, stream, line) => {
      logs.append(host, stream === 'stderr' ? `! ${line}` : line);
      events.emit({ type: 'host.output', host, stream, line });
    },
  });
  const providers = options.providers ?? [new VagrantProvider(config, env), new OnDemandEc2Provider(config, env), new SshProvider(config)];
  return {
    config,
    env,
    events,
    state: new StateStore(config.privateDir),
    logs,
    runs: new RunRecords(path.join(config.stateDir, 'runs')),
    knownHosts,
    ssh,
    sshConfig: new SshConfigFiles(options.home ?? env.HOME ?? os.homedir(), config.project.id, knownHosts.file),
    providers: new Map(providers.map((provider) => [provider.name, provider])),
  };
}

/** Routes a provider's output line into the machine's log (or the general log) and the event stream. */
export function providerOutput(engine: Engine): ProviderOutput {
  return (line, machine) => {
    if (machine) {
      engine.logs.append(machine, line);
      engine.events.emit({ type: 'host.output', host: machine, stream: 'stdout', line });
    } else {
      engine.events.emit({ type: 'log', level: 'info', message: line });
    }
  };
}
