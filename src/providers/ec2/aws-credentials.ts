import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';

/**
 * The AWS SDK's default credential chain (environment, ~/.aws files, SSO, process) as pcc uses it.
 * pcc runs on a workstation, so the instance metadata endpoint is left out unless the user turned it
 * on explicitly: asking it there only costs a timeout and sends traffic off the machine.
 */
export function awsCredentialChain(env: NodeJS.ProcessEnv = process.env): AwsCredentialIdentityProvider {
  if (env.AWS_EC2_METADATA_DISABLED === undefined) process.env.AWS_EC2_METADATA_DISABLED = 'true';
  return defaultProvider(env.AWS_PROFILE ? { profile: env.AWS_PROFILE } : {});
}
