import type { Config } from '../../core/config/load.js';
import type { Leftover, Machine, Provider, ProviderOutput, SavedImage, SshEndpoint, UpRequest } from '../provider.js';
import { EC2_CAPABILITIES, ec2InUse } from './ec2-usage.js';

/**
 * The EC2 provider as the engine holds it: the real one (ec2-provider.ts) and the AWS SDK load on the
 * first call that needs them. The SDK alone costs about 300 ms and 90 MB, which every pcc command
 * and the terminal UI would otherwise pay in a project that never touches EC2.
 */
export class OnDemandEc2Provider implements Provider {
  readonly name = 'ec2' as const;
  readonly #config: Config;
  readonly #env: NodeJS.ProcessEnv;
  #loaded: Promise<Provider> | undefined;

  constructor(config: Config, env: NodeJS.ProcessEnv) {
    this.#config = config;
    this.#env = env;
  }

  #provider(): Promise<Provider> {
    this.#loaded ??= import('./ec2-provider.js').then(({ Ec2Provider }) => new Ec2Provider(this.#config, this.#env));
    return this.#loaded;
  }

  capabilities() {
    return EC2_CAPABILITIES;
  }

  // The calls every run makes (reconcile, listings, the leak check) answer without loading when EC2 is unused.
  async list(): Promise<Machine[]> {
    return ec2InUse(this.#config) ? (await this.#provider()).list() : [];
  }

  async images(): Promise<SavedImage[]> {
    return ec2InUse(this.#config) ? ((await (await this.#provider()).images?.()) ?? []) : [];
  }

  async tidyUp(output: ProviderOutput): Promise<Leftover[]> {
    return ec2InUse(this.#config) ? ((await (await this.#provider()).tidyUp?.(output)) ?? []) : [];
  }

  async up(request: UpRequest, output: ProviderOutput): Promise<Machine[]> {
    return (await this.#provider()).up(request, output);
  }

  async start(names: string[], output: ProviderOutput): Promise<void> {
    return (await this.#provider()).start(names, output);
  }

  async save(names: string[], output: ProviderOutput): Promise<void> {
    return (await this.#provider()).save(names, output);
  }

  async destroy(names: string[], output: ProviderOutput): Promise<void> {
    return (await this.#provider()).destroy(names, output);
  }

  async sshEndpoint(name: string): Promise<SshEndpoint> {
    return (await this.#provider()).sshEndpoint(name);
  }

  async fitDisks(names: string[], dockerGb: number, output: ProviderOutput): Promise<void> {
    return (await this.#provider()).fitDisks?.(names, dockerGb, output);
  }

  async saveImage(names: string[], output: ProviderOutput): Promise<void> {
    return (await this.#provider()).saveImage?.(names, output);
  }

  async removeImage(id: string, output: ProviderOutput): Promise<void> {
    return (await this.#provider()).removeImage?.(id, output);
  }
}
