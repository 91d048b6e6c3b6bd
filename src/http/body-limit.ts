/**
 * The request body limit, enforced on the raw Node request before Yoga sees it. Checking the
 * declared Content-Length is free; Yoga's own limit instead streams every body through a counting
 * transform, which showed up as a measurable share of each request's CPU. A body without a
 * Content-Length (chunked) is refused with 411: every GraphQL client sends one.
 */
import type { IncomingMessage } from 'node:http';
import type { Refusal } from './refusal.js';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** The refusal for a body the gateway will not read, or undefined when the body may be read. */
export function oversizedBody(request: IncomingMessage, maxBytes: number): Refusal | undefined {
  if (!METHODS_WITH_BODY.has(request.method ?? '')) return undefined;
  const declared = request.headers['content-length'];
  if (declared === undefined) {
    if (request.headers['transfer-encoding'] === undefined) return undefined;
    return { status: 411, code: 'LENGTH_REQUIRED', message: 'Send the request with a Content-Length header.' };
  }
  if (!/^\d+$/.test(declared))
    return { status: 400, code: 'BAD_REQUEST', message: 'The Content-Length header is invalid.' };
  if (Number(declared) > maxBytes)
    return {
      status: 413,
      code: 'REQUEST_ENTITY_TOO_LARGE',
      message: `The request body is larger than ${maxBytes} bytes.`,
    };
  return undefined;
}
