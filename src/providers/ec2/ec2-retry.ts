/**
 * Retries of EC2 API calls. pcc retries itself (the client is built with maxAttempts 1) so one
 * policy covers every call, including ones made through a client the caller passed in.
 */

export interface RetryPolicy {
  /** Calls in all, the first included. */
  attempts: number;
  /** The first wait; each later one may double, up to maxDelayMs ("full jitter"). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 500, maxDelayMs: 20_000 };

/** AWS asks the caller to slow down. */
const THROTTLING = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'EC2ThrottledException',
  'SlowDown',
]);

/** Failures of the service or the network that a later identical call can get past. */
const TRANSIENT = new Set([
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'Unavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
]);

interface AwsLikeError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

export function isThrottling(error: unknown): boolean {
  const { name, code } = (error ?? {}) as AwsLikeError;
  return THROTTLING.has(name ?? '') || THROTTLING.has(code ?? '');
}

export function isRetryable(error: unknown): boolean {
  const { name, code, $metadata } = (error ?? {}) as AwsLikeError;
  return isThrottling(error) || TRANSIENT.has(name ?? '') || TRANSIENT.has(code ?? '') || ($metadata?.httpStatusCode ?? 0) >= 500;
}

/**
 * Runs `work` until it succeeds, a failure is not retryable (per `retryable`), or the attempts are
 * spent; waits with exponential backoff and full jitter in between.
 */
export async function withRetry<T>(work: () => Promise<T>, policy: RetryPolicy, retryable: (error: unknown) => boolean = isRetryable): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= policy.attempts || !retryable(error)) throw error;
      const delayMs = Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
