import { PccError } from '../../core/errors.js';
import { ProviderError } from '../provider.js';
import { isThrottling } from './ec2-retry.js';

const CREDENTIALS_HINT =
  'Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in config/.private, or configure the AWS SDK chain ' +
  '(environment variables, ~/.aws/credentials, AWS_PROFILE, or `aws sso login`).';

/** AWS refused the credentials themselves (as opposed to a permission they lack). */
const REJECTED = new Set([
  'AuthFailure',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidAccessKeyId',
  'MissingAuthenticationToken',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
]);

const QUOTA = new Set(['InstanceLimitExceeded', 'VcpuLimitExceeded', 'MaxSpotInstanceCountExceeded', 'ResourceLimitExceeded']);

export interface ErrorContext {
  /** What pcc was doing, e.g. "launch a c7i.2xlarge". */
  what: string;
  region: string | undefined;
  instanceType?: string;
  /** Values that must not appear in a message (they are replaced by [secret]). */
  secrets: string[];
}

/** The one error a person reads for a failed EC2 call: what failed, why in AWS's words, what to do. */
export function explainAwsError(error: unknown, context: ErrorContext): PccError {
  if (error instanceof PccError) return redactError(error, context.secrets);
  const { name = 'Error', message = String(error) } = (error ?? {}) as { name?: string; message?: string };
  const where = context.region ? ` in ${context.region}` : '';
  const type = context.instanceType ?? 'that instance type';
  const reason = redact(message, context.secrets);
  let explained: PccError;
  if (/could not load credentials from any providers/i.test(message) || (name === 'CredentialsProviderError' && !message.trim())) {
    explained = new ProviderError('misconfigured', `cannot ${context.what}: no AWS credentials found`, CREDENTIALS_HINT);
  } else if (name === 'CredentialsProviderError' || name === 'TokenProviderError') {
    // AWS's own words are the useful ones here: an expired SSO session, a profile that does not exist.
    explained = new ProviderError('misconfigured', `cannot ${context.what}: ${reason}`, /sso/i.test(message) ? 'Log in again: aws sso login (with --profile, if you use one), then run the command again.' : CREDENTIALS_HINT);
  } else if (REJECTED.has(name)) {
    explained = new ProviderError('misconfigured', `cannot ${context.what}: AWS rejected the credentials (${name}: ${reason})`,
      /expired/i.test(name) ? 'Refresh them (for SSO: aws sso login), then try again.' : `Check them. ${CREDENTIALS_HINT}`);
  } else if (/region is missing/i.test(message)) {
    explained = new ProviderError('misconfigured', `cannot ${context.what}: no AWS region is set`, 'Set AWS_REGION in config/project.env (or in ~/.aws/config for your profile).');
  } else if (name === 'UnauthorizedOperation' || name === 'AccessDenied' || name === 'AccessDeniedException') {
    explained = new ProviderError('misconfigured', `cannot ${context.what}: these AWS credentials are not allowed to (${name})`, 'Grant the IAM user or role the EC2 permissions pcc uses (listed in the README, section EC2).');
  } else if (name === 'InsufficientInstanceCapacity' || name === 'InsufficientCapacity') {
    explained = new PccError(`cannot ${context.what}: AWS has no ${type} capacity${where} right now (InsufficientInstanceCapacity)`, {
      hint: 'Try again later, or another instance type (--instance-type), or another region (AWS_REGION).',
    });
  } else if (QUOTA.has(name)) {
    explained = new PccError(`cannot ${context.what}: an account limit${where} is reached (${name}: ${reason})`, {
      hint: 'Destroy hosts you no longer need, or ask AWS for a higher quota (Service Quotas console).',
    });
  } else if (name === 'Unsupported' || name === 'InvalidInstanceType') {
    explained = new PccError(`cannot ${context.what}: ${type} is not available${where} (${name}: ${reason})`, {
      hint: 'Choose an instance type offered there (--instance-type, EC2_INSTANCE_TYPE_CPU/GPU) or another region.',
    });
  } else if (name === 'VPCIdNotSpecified' || (name === 'MissingInput' && /vpc/i.test(message))) {
    explained = new PccError(`cannot ${context.what}: the account has no default VPC${where}`, {
      hint: 'Create one: aws ec2 create-default-vpc (pcc launches into the default VPC).',
    });
  } else if (isThrottling(error)) {
    explained = new PccError(`cannot ${context.what}: AWS kept throttling the requests (${name})`, { hint: 'Wait a minute and try again.' });
  } else {
    explained = new PccError(`cannot ${context.what}: ${name}: ${reason}`);
  }
  return explained;
}

/** Replaces every secret value in a text. */
export function redact(text: string, secrets: string[]): string {
  return secrets.filter((secret) => secret.length > 0).reduce((result, secret) => result.split(secret).join('[secret]'), text);
}

function redactError(error: PccError, secrets: string[]): PccError {
  const message = redact(error.message, secrets);
  const hint = error.hint === undefined ? undefined : redact(error.hint, secrets);
  if (message === error.message && hint === error.hint) return error;
  return new PccError(message, { ...(hint === undefined ? {} : { hint }), exitCode: error.exitCode });
}
