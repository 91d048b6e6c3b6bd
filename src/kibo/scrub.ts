/**
 * What of Kibo's error body may reach the client. Kibo's `errorCode` and `message` are passed on in
 * `extensions.kibo`, and in cookie mode a refresh token quoted there would hand the HttpOnly cookie's
 * value to browser script. So:
 * - `errorCode` passes only when it is one of Kibo's known codes (anything else reads as null);
 * - `message` is cut to MAX_KIBO_MESSAGE_LENGTH characters without control characters, and is
 *   withheld whole when it carries any piece of a credential the call sent — as is, in another
 *   case, URL- or JSON-escaped, base64- or hex-encoded, or just a prefix of it.
 * Withholding beats redacting: an encoded copy has no clean span to cut out.
 */

import { bearerToken } from './bearer.js';

/** Kibo's application error codes the gateway passes on; the emulator's among them. */
export const KNOWN_KIBO_ERROR_CODES: ReadonlySet<string> = new Set([
  'UNAUTHORIZED',
  'INVALID_CREDENTIALS',
  'INVALID_REFRESH_TOKEN',
  'INVALID_ACCESS_TOKEN',
  'EXPIRED_ACCESS_TOKEN',
  'TENANT_ACCESS_DENIED',
  'FORBIDDEN',
  'ITEM_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'MISSING_OR_INVALID_PARAMETER',
  'VALIDATION_CONFLICT',
  'UNSUPPORTED_MEDIA_TYPE',
  'TOO_MANY_REQUESTS',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
  'EMULATED_FAILURE',
]);

export const MAX_KIBO_MESSAGE_LENGTH = 200;

/** Shorter pieces are too common to mean a credential; longer ones are what a partial echo shows. */
const FRAGMENT_LENGTH = 8;
const WITHHELD = '[withheld: Kibo quoted the credentials]';

export function safeKiboErrorCode(code: unknown): string | undefined {
  return typeof code === 'string' && KNOWN_KIBO_ERROR_CODES.has(code) ? code : undefined;
}

/** Kibo's message fit to pass on, given the credentials (bearer header, refresh token) the call sent. */
export function safeKiboMessage(message: unknown, credentials: readonly string[]): string | undefined {
  if (typeof message !== 'string' || !message) return undefined;
  // Control characters have no business in a message and could forge lines in a careless log viewer.
  // eslint-disable-next-line no-control-regex
  let clean = message.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  if (clean.length > MAX_KIBO_MESSAGE_LENGTH) clean = `${clean.slice(0, MAX_KIBO_MESSAGE_LENGTH)}…`;
  const pieces = credentials.flatMap((credential) => fragmentsOf(bearerToken(credential)));
  if (pieces.length === 0) return clean;
  // The whole message is searched, not only what is passed on: a copy cut at the limit still counts.
  const views = readingsOf(message);
  return views.some((view) => pieces.some((piece) => view.includes(piece))) ? WITHHELD : clean;
}

/** Every piece of FRAGMENT_LENGTH characters of a credential, lower-cased (a short one whole). */
function fragmentsOf(credential: string): string[] {
  const lower = credential.toLowerCase();
  if (lower.length < 4) return [];
  if (lower.length <= FRAGMENT_LENGTH) return [lower];
  const pieces: string[] = [];
  for (let start = 0; start + FRAGMENT_LENGTH <= lower.length; start++)
    pieces.push(lower.slice(start, start + FRAGMENT_LENGTH));
  return pieces;
}

/** The message as read plainly and through each encoding a copy could hide in, all lower-cased. */
function readingsOf(message: string): string[] {
  const views = [message, percentDecoded(message), jsonUnescaped(message)];
  for (const run of message.match(/[A-Za-z0-9+/_-]{8,}/g) ?? []) views.push(...base64Readings(run));
  for (const run of message.match(/[0-9a-fA-F]{8,}/g) ?? []) views.push(...hexReadings(run));
  return views.map((view) => view.toLowerCase());
}

function percentDecoded(text: string): string {
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (encoded) => {
    try {
      return decodeURIComponent(encoded);
    } catch {
      return Buffer.from(encoded.replace(/%/g, ''), 'hex').toString('latin1');
    }
  });
}

function jsonUnescaped(text: string): string {
  return text
    .replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/\\(["\\/])/g, '$1');
}

/** A run decoded as base64 (and base64url) from each of its first four characters: alignment unknown. */
function base64Readings(run: string): string[] {
  const readings: string[] = [];
  for (let offset = 0; offset < 4 && run.length - offset >= 8; offset++) {
    const aligned = run.slice(offset);
    readings.push(Buffer.from(aligned.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1'));
  }
  return readings;
}

function hexReadings(run: string): string[] {
  return [Buffer.from(run, 'hex').toString('latin1'), Buffer.from(run.slice(1), 'hex').toString('latin1')];
}
