import { EC2Client, type waitUntilInstanceRunning } from '@aws-sdk/client-ec2';
import { awsCredentialChain } from './aws-credentials.js';
import type { Config } from '../../core/config/load.js';
import { PccError } from '../../core/errors.js';
import { explainAwsError } from './ec2-errors.js';
import { DEFAULT_RETRY, isRetryable, withRetry, type RetryPolicy } from './ec2-retry.js';

/** How long and how often pcc polls while it waits for EC2 (seconds, as the SDK's waiters take them). */
export interface WaitPolicy {
  minDelay: number;
  maxDelay: number;
}

export const DEFAULT_WAIT: WaitPolicy = { minDelay: 5, maxDelay: 30 };

export interface Ec2ApiOptions {
  /** A ready client (tests pass one whose commands are mocked); default: built from config. */
  client?: EC2Client;
  retry?: RetryPolicy;
  wait?: WaitPolicy;
}

/** Errors no amount of waiting cures: the waiter would poll on through them until its time limit. */
const FATAL_WHILE_WAITING = /^(ExpiredToken|ExpiredTokenException|RequestExpired|UnauthorizedOperation|AuthFailure|InvalidClientTokenId|SignatureDoesNotMatch|AccessDenied|AccessDeniedException|OptInRequired|Blocked|UnrecognizedClientException|InvalidParameterValue|InvalidParameterCombination|MissingParameter)$/;

/** The answer a waiter saw most recently, from the JSON its error message holds (observed responses). */
function lastObserved(error: unknown): string | undefined {
  if (!(error instanceof Error) || !error.message.startsWith('{')) return undefined;
  try {
    const result = JSON.parse(error.message) as { observedResponses?: Record<string, number> };
    const answers = Object.entries(result.observedResponses ?? {});
    const last = answers.at(-1);
    return last ? `${last[0]}${last[1] > 1 ? ` (${last[1]} times)` : ''}` : undefined;
  } catch {
    return undefined;
  }
}

/** One of the SDK's waitUntil… functions. */
type Waiter<I> = (params: Parameters<typeof waitUntilInstanceRunning>[0], input: I) => Promise<unknown>;

/**
 * The EC2 API as pcc calls it: one client per run, built only when first needed (a project that
 * never uses EC2 never loads credentials), credentials and region checked once up front, every call
 * retried on throttling and transient failures, and every failure turned into one clear PccError
 * with no secret in it.
 */
export class Ec2Api {
  readonly #config: Config;
  readonly #env: NodeJS.ProcessEnv;
  readonly #options: Ec2ApiOptions;
  #ready: Promise<{ client: EC2Client; region: string }> | undefined;

  constructor(config: Config, env: NodeJS.ProcessEnv, options: Ec2ApiOptions = {}) {
    this.#config = config;
    this.#env = env;
    this.#options = options;
  }

  /** The region every call goes to. */
  async region(): Promise<string> {
    return (await this.#client()).region;
  }

  /**
   * Runs one API call with pcc's retries; `what` says what it does, for the error message.
   * `retryOn` names errors that are transient for this call only (say, DependencyViolation).
   */
  async call<T>(what: string, run: (client: EC2Client) => Promise<T>, options: { instanceType?: string; retryOn?: string[] } = {}): Promise<T> {
    const { client, region } = await this.#client();
    const retryOn = new Set(options.retryOn ?? []);
    try {
      return await withRetry(() => run(client), this.#options.retry ?? DEFAULT_RETRY, (error) => isRetryable(error) || retryOn.has((error as { name?: string }).name ?? ''));
    } catch (error) {
      throw explainAwsError(error, { what, region, secrets: this.#secrets(), ...(options.instanceType ? { instanceType: options.instanceType } : {}) });
    }
  }

  /** Every item of a paginated Describe call. */
  async all<O extends { NextToken?: string | undefined }, T>(what: string, page: (client: EC2Client, token: string | undefined) => Promise<O>, items: (output: O) => T[]): Promise<T[]> {
    const found: T[] = [];
    let token: string | undefined;
    do {
      const output: O = await this.call(what, (client) => page(client, token));
      found.push(...items(output));
      token = output.NextToken;
    } while (token);
    return found;
  }

  /**
   * Waits with one of the SDK's waiters. The waiter polls on through any error it does not know, up
   * to the time limit; pcc stops it at once on an error that waiting cannot cure (expired credentials,
   * a missing permission) and reports that error. A time-out or a failed wait says what was awaited,
   * what AWS last answered, and what to check.
   */
  async wait<I>(what: string, waiter: Waiter<I>, input: I, maxWaitSeconds: number): Promise<void> {
    const { client, region } = await this.#client();
    const wait = this.#options.wait ?? DEFAULT_WAIT;
    const abortController = new AbortController();
    let fatal: unknown;
    // The waiter's own client calls, watched: the SDK types want an EC2Client, and send is all a waiter uses.
    const watched = {
      config: client.config,
      send: async (command: Parameters<EC2Client['send']>[0]) => {
        try {
          return await client.send(command);
        } catch (error) {
          if (FATAL_WHILE_WAITING.test((error as { name?: string }).name ?? '')) {
            fatal ??= error;
            abortController.abort();
          }
          throw error;
        }
      },
    } as unknown as EC2Client;
    try {
      await waiter({ client: watched, maxWaitTime: maxWaitSeconds, abortController, ...wait }, input);
    } catch (error) {
      if (fatal !== undefined) throw explainAwsError(fatal, { what, region, secrets: this.#secrets() });
      const name = (error as { name?: string }).name;
      const lastAnswer = lastObserved(error);
      const waited = maxWaitSeconds < 120 ? `${maxWaitSeconds} s` : `${Math.round(maxWaitSeconds / 60)} min`;
      if (name === 'TimeoutError') {
        throw new PccError(`${what}: not done after ${waited}${lastAnswer ? `; AWS last answered: ${lastAnswer}` : ''}`, {
          hint: `Check it in the EC2 console (${region}): its state and status checks. Run the command again to go on waiting; pcc picks up where it stopped.`,
        });
      }
      if (error instanceof Error && error.message.startsWith('{')) {
        throw new PccError(`${what}: it ended where it cannot get to${lastAnswer ? `: AWS answered ${lastAnswer}` : ''}`, {
          hint: `Check it in the EC2 console (${region}) for the reason, e.g. the instance's state reason.`,
        });
      }
      throw explainAwsError(error, { what, region, secrets: this.#secrets() });
    }
  }

  #secrets(): string[] {
    return [this.#config.aws.secretAccessKey?.reveal(), this.#env.AWS_SECRET_ACCESS_KEY, this.#env.AWS_SESSION_TOKEN].filter((value): value is string => Boolean(value));
  }

  #client(): Promise<{ client: EC2Client; region: string }> {
    this.#ready ??= this.#connect();
    return this.#ready;
  }

  async #connect(): Promise<{ client: EC2Client; region: string }> {
    const { aws } = this.#config;
    const client =
      this.#options.client ??
      new EC2Client({
        ...(aws.region ? { region: aws.region } : {}),
        credentials:
          aws.accessKeyId && aws.secretAccessKey
            ? { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey.reveal() }
            : awsCredentialChain(this.#env),
        // pcc's own retries (withRetry) are the only ones, so each call is retried under one policy.
        maxAttempts: 1,
      });
    let region: string | undefined;
    try {
      region = await client.config.region();
      await client.config.credentials();
    } catch (error) {
      throw explainAwsError(error, { what: 'use AWS', region, secrets: this.#secrets() });
    }
    return { client, region };
  }
}
