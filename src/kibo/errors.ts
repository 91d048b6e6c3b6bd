/**
 * Every way a Kibo call can fail, reduced to one error with a stable code. The codes are the ones
 * the GraphQL layer puts in `extensions.code`; nothing here knows about GraphQL itself.
 */

import type { UpstreamErrorCode } from '../error-codes.js';

export type { UpstreamErrorCode };

export interface KiboErrorDetails {
  /** HTTP status Kibo answered with, when it answered at all. */
  status?: number;
  /** Kibo's own `errorCode`, e.g. MISSING_OR_INVALID_PARAMETER. */
  kiboErrorCode?: string;
  /** Kibo's own message, with any credential the call carried removed. */
  kiboMessage?: string;
  /** From `Retry-After` on a 429, in seconds. */
  retryAfterSeconds?: number;
  /** Kibo's `x-vol-correlation` of the answer this error came from. */
  correlationId?: string;
}

export class KiboError extends Error {
  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
    readonly details: KiboErrorDetails = {},
  ) {
    super(message);
    this.name = 'KiboError';
  }
}

const MESSAGES: Record<UpstreamErrorCode, string> = {
  BAD_USER_INPUT: 'Kibo rejected the request as invalid.',
  UNAUTHENTICATED: 'Kibo did not accept the credentials: check the bearer token and the refresh token.',
  FORBIDDEN: 'The user has no access to this tenant.',
  NOT_FOUND: 'Kibo did not find the resource.',
  RATE_LIMITED: 'Kibo is rate limiting these requests; retry later.',
  UPSTREAM_UNAVAILABLE: 'Kibo did not answer usably; try again shortly.',
};

export function codeForStatus(status: number): UpstreamErrorCode {
  if (status === 400 || status === 422) return 'BAD_USER_INPUT';
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RATE_LIMITED';
  return 'UPSTREAM_UNAVAILABLE';
}

export function kiboStatusError(status: number, details: KiboErrorDetails): KiboError {
  const code = codeForStatus(status);
  return new KiboError(code, MESSAGES[code], { ...details, status });
}

export function unavailable(reason: string): KiboError {
  return new KiboError('UPSTREAM_UNAVAILABLE', `${MESSAGES.UPSTREAM_UNAVAILABLE} (${reason})`);
}

/** `Retry-After` is either delta-seconds or an HTTP date. */
export function parseRetryAfter(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}
