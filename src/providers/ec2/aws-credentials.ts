import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';

/**
 * The AWS SDK's default credential chain (environment, ~/.aws files, SSO, process) as pcc uses it.
 * pcc runs on a workstation, so the instance metadata endpoint is left out unless the user turned it
 * on explicitly: asking it there only costs a timeout and sends traffic off the machine.
 */
export function awsCredentialChain(env: NodeJS.ProcessEnv = process.env): AwsCredentialIdentityProvider {
  if (env.AWS_EC2_METADATA_DISABLED === undefined) process.env.AWS_EC2_METADATA_DISABLED = 'true';
  const profile = env.AWS_PROFILE;
  const chain = defaultProvider(profile ? { profile } : {});
  if (!profile) return chain;
  return async (options) => {
    try {
      return await chain(options);
    } catch (error) {
      // The chain's last word ("Could not load credentials from any providers") hides why a named
      // profile failed; the profile's own provider says it (no such profile, a broken entry).
      if (!/could not load credentials from any providers/i.test((error as Error).message)) throw error;
      const { fromIni } = await import('@aws-sdk/credential-provider-ini');
      return fromIni({ profile })(options);
    }
  };
}
