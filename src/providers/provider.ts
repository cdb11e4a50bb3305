import { PccError } from '../engine/errors.js';

export type ProviderName = 'vagrant' | 'ec2';
export type ComputeType = 'cpu' | 'gpu';
export type MachineRole = 'init' | 'compute';

/**
 * A machine's state as pcc shows it. `saved` keeps memory (suspend) or the instance (EC2 stop);
 * `stopped` is powered off; `not-created` is defined but has no machine behind it.
 */
export type MachineState = 'creating' | 'running' | 'saved' | 'stopped' | 'not-created' | 'unknown';

/** One machine as its provider reports it. */
export interface Machine {
  name: string;
  provider: ProviderName;
  role: MachineRole;
  computeType: ComputeType;
  state: MachineState;
  /** Provider extras that become inventory groups, e.g. { instanceType: 'g5.xlarge', instanceId: 'i-0abc' }. */
  extras: Record<string, string>;
}

/**
 * Where the controller `init` sees the workstation's folders (synced by the provider): the project
 * folder, and `.pcc/registry/` that holds the registry's volume, so both live on the user's disk.
 */
export const INIT_FOLDERS = { project: '/srv/pcc/project', registry: '/srv/pcc/registry' } as const;

/** How to reach a machine over SSH. */
export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  /** Absolute path of the private key to log in with. */
  identityFile: string;
}

export interface ProviderCapabilities {
  /** Save keeps memory (suspend); otherwise save powers off. */
  canSuspend: boolean;
}

/** Progress a provider reports while it works: one line of its tool's output, attributed to a machine where it can tell. */
export type ProviderOutput = (line: string, machine?: string) => void;

export interface UpRequest {
  count: number;
  computeType: ComputeType;
  role?: MachineRole;
  /** Called with the names of the machines about to be made, before anything is made. */
  onPlanned?: (machines: Machine[]) => Promise<void>;
}

/** What every provider offers; the engine uses nothing else. */
export interface Provider {
  readonly name: ProviderName;
  capabilities(): ProviderCapabilities;
  /** Every machine this provider holds for the project, in any state. */
  list(): Promise<Machine[]>;
  /** Makes `count` new machines and waits until each is running. */
  up(request: UpRequest, output: ProviderOutput): Promise<Machine[]>;
  /** Brings back machines stopped or saved outside this call (also ones that already run). */
  start(names: string[], output: ProviderOutput): Promise<void>;
  save(names: string[], output: ProviderOutput): Promise<void>;
  destroy(names: string[], output: ProviderOutput): Promise<void>;
  sshEndpoint(name: string): Promise<SshEndpoint>;
}

export type ProviderErrorCode = 'not-installed' | 'not-found' | 'command-failed' | 'unsupported' | 'misconfigured';

/** A provider could not do what was asked; the message says which machine and what to do. */
export class ProviderError extends PccError {
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    hint?: string,
  ) {
    super(message, { hint, exitCode: code === 'misconfigured' ? 2 : 1 });
  }
}
