import { PccError } from '../core/errors.js';

export type ProviderName = 'vagrant' | 'ec2' | 'ssh';
export type ComputeType = 'cpu' | 'gpu';
export type MachineRole = 'init' | 'compute';

/**
 * A machine's state as pcc shows it. `saved` keeps memory (suspend) or the instance (EC2 stop);
 * `stopped` is powered off; `interrupted` was stopped by its provider taking back spot capacity;
 * `not-created` is defined but has no machine behind it; `unreachable` is a machine pcc does not power
 * (the user's own) that does not answer now.
 */
export type MachineState = 'creating' | 'running' | 'saved' | 'stopped' | 'interrupted' | 'unreachable' | 'not-created' | 'unknown';

/** A machine that powered itself off (pcc's idle stop): why, as it wrote it, and when. */
export interface SelfStop {
  reason: string;
  at: string;
}

/** Where a host's idle stop writes its reason (`src/engine/setup/idle-stop.sh`); it also prints it on the console. */
export const SELF_STOP_FILE = '/var/lib/pcc/last-stop';

/** The last `pcc-stop: REASON at TIME` line of a host's file or console; a reason must be plain words. */
export function parseSelfStop(text: string): SelfStop | undefined {
  const matches = [...text.matchAll(/pcc-stop: ([a-z0-9 ]{1,40}) at (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)/g)];
  const last = matches.at(-1);
  return last ? { reason: last[1] ?? '', at: last[2] ?? '' } : undefined;
}

/** What a provider bills a machine for, as far as it tells: pcc prices it (`src/engine/cost.ts`). */
export interface Billing {
  /** What it is billed as while it runs. */
  instanceType: string;
  /** Bought at the spot market: billed at most the on-demand price. */
  spot: boolean;
  /** When it last started (launch or resume) while it runs; what it has cost since counts from here. */
  runningSince?: string;
  /** When it was saved as an image, for a host held only by its image. */
  savedAt?: string;
  /** Storage billed whether it runs or not: its disks, or the snapshots of its saved image. */
  storage: { kind: 'volume' | 'snapshot'; gb: number }[];
}

/** One machine as its provider reports it. */
export interface Machine {
  name: string;
  provider: ProviderName;
  role: MachineRole;
  computeType: ComputeType;
  state: MachineState;
  /** Provider extras that become inventory groups, e.g. { instanceType: 'g5.xlarge', instanceId: 'i-0abc' }. */
  extras: Record<string, string>;
  /**
   * Its address inside the provider's private network (an EC2 instance's VPC address), where other
   * machines of the same provider reach it: EC2 security groups admit members by these addresses only.
   */
  privateAddress?: string;
  /** Only where the provider bills (EC2). */
  billing?: Billing;
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
  /** up takes a machine type (UpRequest.machineType), e.g. an EC2 instance type. */
  machineTypes?: boolean;
  /** up can ask for interruptible, cheaper capacity (UpRequest.spot). */
  spot?: boolean;
  /** saveImage, images and removeImage exist: a host can be saved as an image and resumed from it. */
  images?: boolean;
  /** Its machines existed before pcc (the user's own): pcc neither powers nor destroys them, `pcc remove` forgets one. */
  existing?: boolean;
}

/** An image a provider saved a host as; resuming the host starts from it. */
export interface SavedImage {
  id: string;
  provider: ProviderName;
  /** The host it holds. */
  host: string;
  computeType: ComputeType;
  state: string;
  createdAt: string | undefined;
  /** Storage it is billed for. */
  sizeGb: number | undefined;
}

/** Something a provider still holds for the project (billed or not), and why it is there. */
export interface Leftover {
  provider: ProviderName;
  kind: string;
  id: string;
  reason: string;
}

/** Progress a provider reports while it works: one line of its tool's output, attributed to a machine where it can tell. */
export type ProviderOutput = (line: string, machine?: string) => void;

export interface UpRequest {
  count: number;
  computeType: ComputeType;
  role?: MachineRole;
  /** The provider's machine type; only where capabilities().machineTypes. Default: from config. */
  machineType?: string;
  /** Interruptible capacity; only where capabilities().spot. */
  spot?: boolean;
  /**
   * Called with machines as soon as their names are known and before pcc waits for them, so state
   * records each one before anything can fail: before anything is made where names are chosen up
   * front (Vagrant), right after each launch where the provider names them (EC2 instance ids).
   */
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
  /** Deletes machines and whatever the provider keeps of them; names of machines already gone are no error. */
  destroy(names: string[], output: ProviderOutput): Promise<void>;
  sshEndpoint(name: string): Promise<SshEndpoint>;
  /** Why a machine that stopped without pcc powered itself off, where the provider can read it. */
  selfStop?(name: string): Promise<SelfStop | undefined>;
  /**
   * Grows running machines' disks where they are too small to hold a Docker volume of `dockerGb`
   * beside their system (never shrinks); the host's setup then grows its partition and filesystem.
   */
  fitDisks?(names: string[], dockerGb: number, output: ProviderOutput): Promise<void>;
  /** Saves hosts as images and removes the machines; start() brings them back from the images. */
  saveImage?(names: string[], output: ProviderOutput): Promise<void>;
  /** The images this provider saved hosts of the project as. */
  images?(): Promise<SavedImage[]>;
  /** Deletes a saved image (and the storage behind it); its host is gone with it. */
  removeImage?(id: string, output: ProviderOutput): Promise<void>;
  /**
   * After a destroy: removes what the project no longer uses (shared network rules, keys) and
   * lists everything the provider still holds for the project, each with the reason.
   */
  tidyUp?(output: ProviderOutput): Promise<Leftover[]>;
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
