/**
 * A credential header sent twice is ambiguous: Node joins repeated custom headers with ", ", so two
 * `X-Kibo-Refresh-Token` lines would reach Kibo as one token `"a, b"` (and for `Authorization` Node
 * silently keeps the first). Which one the client meant is not ours to guess: 400 with a code.
 */
import type { IncomingMessage } from 'node:http';
import type { Refusal } from './refusal.js';

/** Lower-case names of the headers that must come at most once. */
const SINGLE_HEADERS = new Set(['authorization', 'x-kibo-refresh-token', 'x-vol-tenant']);

/** The refusal for a request carrying one of these headers more than once, or undefined. */
export function duplicateCredentialHeader(request: IncomingMessage): Refusal | undefined {
  const raw = request.rawHeaders;
  let seen: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!SINGLE_HEADERS.has(name)) continue;
    seen ??= new Set();
    if (seen.has(name)) return { status: 400, code: 'BAD_REQUEST', message: `The ${raw[i]} header must be sent once.` };
    seen.add(name);
  }
  return undefined;
}
