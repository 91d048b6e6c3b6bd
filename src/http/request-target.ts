/**
 * The fetch adapter under Yoga builds each request's URL as `http://${Host}${target}`. A Host or a
 * request target it cannot build a URL from (`Host: a b`, `Host: x:99999`, `Host: [::1`, an
 * absolute-form or `*` target) throws before any plugin runs, and the adapter answers that with a
 * text/plain 500 carrying the stack. The same check is made here first, on the raw Node request:
 * anything that does not make exactly that URL is the client's fault, answered 400 with a code.
 * RFC 9112 §3.2 asks for the same 400 for an invalid or repeated Host.
 */
import type { IncomingMessage } from 'node:http';
import type { Refusal } from './refusal.js';

const BAD_HOST: Refusal = {
  status: 400,
  code: 'BAD_REQUEST',
  message: 'The Host header is not a valid host[:port].',
};
const BAD_TARGET: Refusal = {
  status: 400,
  code: 'BAD_REQUEST',
  message: 'The request target must be a path starting with "/".',
};

/** The refusal for a request whose URL cannot be built, or undefined when it can. */
export function malformedTarget(request: IncomingMessage): Refusal | undefined {
  const target = request.url ?? '';
  if (!target.startsWith('/')) return BAD_TARGET;
  const host = request.headers.host;
  // No Host at all (HTTP/1.0) is fine: the adapter then uses the socket's own address.
  if (!host) return undefined;
  if (hostLines(request) > 1 || !HOST_CHARACTERS.test(host)) return BAD_HOST;
  // With a path-only target, what is left to fail is the host itself: brackets, a port out of range.
  try {
    new URL(`http://${host}${target}`);
  } catch {
    return BAD_HOST;
  }
  return undefined;
}

/** Node keeps the first of several Host lines; the raw headers still show them all. */
function hostLines(request: IncomingMessage): number {
  let count = 0;
  const raw = request.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') count++;
  return count;
}

/** RFC 3986's host characters, and a port (reg-name, IPv4, bracketed IPv6): no userinfo, path, query or fragment. */
const HOST_CHARACTERS = /^[A-Za-z0-9\-._~!$&'()*+,;=%:[\]]+$/;
