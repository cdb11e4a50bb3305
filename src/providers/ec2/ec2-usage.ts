import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../core/config/load.js';
import type { ProviderCapabilities } from '../provider.js';

/** What EC2 machines can do; known without loading the AWS SDK. */
export const EC2_CAPABILITIES: ProviderCapabilities = { canSuspend: false, machineTypes: true, spot: true, images: true };

/** `ec2/region` in the private state: written when pcc first makes AWS resources; it pins the region they live in. */
export function ec2RegionFile(config: Config): string {
  return path.join(config.privateDir, 'ec2', 'region');
}

/**
 * Whether the project uses EC2 at all: pcc made resources there, or config points at EC2
 * (DEFAULT_PROVIDER=ec2, AWS keys in config/.private). A project that does not makes no AWS call.
 */
export function ec2InUse(config: Config): boolean {
  return existsSync(ec2RegionFile(config)) || config.defaultProvider === 'ec2' || config.aws.accessKeyId !== undefined;
}
