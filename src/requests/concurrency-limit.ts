/**
 * At most N Kibo calls in flight per credential. The Kibo pool is shared by every client
 * (`KIBO_CONNECTIONS`, 32 by default); without a per-credential cap one client firing parallel
 * requests holds all of it and everyone else waits behind. A call past the cap is refused at once
 * with RATE_LIMITED (no Kibo call) rather than queued: a queue would only move the pile-up here.
 *
 * Credentials are keyed by a SHA-256 digest, never held raw; an entry lives only while its credential
 * has calls in flight, so the map is bounded by the calls in flight — and, should that ever be
 * huge, by MAX_TRACKED_CREDENTIALS, past which new credentials are refused too.
 */
import { hash } from 'node:crypto';
import { createGraphQLError } from 'graphql-yoga';
import type { ErrorCode } from '../error-codes.js';
import type { KiboCredentials } from './credentials.js';

const RATE_LIMITED: ErrorCode = 'RATE_LIMITED';

/** More credentials than this with calls in flight at once is an attack, not traffic. */
export const MAX_TRACKED_CREDENTIALS = 10_000;

export class CredentialConcurrencyLimit {
  private readonly inFlight = new Map<string, number>();

  constructor(
    /** `KIBO_MAX_CONCURRENT_PER_CREDENTIAL`: calls one credential may have in flight at once. */
    private readonly maxPerCredential: number,
    private readonly maxTracked = MAX_TRACKED_CREDENTIALS,
  ) {}

  /** Credentials with calls in flight right now (for tests of the bound). */
  get tracked(): number {
    return this.inFlight.size;
  }

  /** Runs `call` if the credential has room, else rejects with RATE_LIMITED without calling. */
  async run<T>(credentials: KiboCredentials, call: () => Promise<T>): Promise<T> {
    const key = digest(credentials);
    const current = this.inFlight.get(key) ?? 0;
    if (current >= this.maxPerCredential || (current === 0 && this.inFlight.size >= this.maxTracked)) {
      throw createGraphQLError(
        `Too many Kibo calls in flight for these credentials (at most ${this.maxPerCredential} at once); retry when one has finished.`,
        { extensions: { code: RATE_LIMITED, retryAfter: 1 } },
      );
    }
    this.inFlight.set(key, current + 1);
    try {
      return await call();
    } finally {
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(key);
      else this.inFlight.set(key, left);
    }
  }
}

function digest({ authorization, refreshToken }: KiboCredentials): string {
  // One-shot hash: a third of createHash's cost, paid by every Kibo call.
  return hash('sha256', `${authorization}\0${refreshToken}`, 'base64url');
}
