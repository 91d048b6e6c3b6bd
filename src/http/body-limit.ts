/**
 * The request body limit, enforced on the raw Node request before Yoga sees it. Checking the
 * declared Content-Length is free; Yoga's own limit instead streams every body through a counting
 * transform, which showed up as a measurable share of each request's CPU. A body without a
 * Content-Length (chunked) is refused with 411: every GraphQL client sends one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../error-codes.js';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** Answers and returns true when the request is refused; otherwise leaves it untouched. */
export function refuseOversizedBody(request: IncomingMessage, response: ServerResponse, maxBytes: number): boolean {
  if (!METHODS_WITH_BODY.has(request.method ?? '')) return false;
  const declared = request.headers['content-length'];
  if (declared === undefined) {
    if (request.headers['transfer-encoding'] === undefined) return false;
    return refuse(response, 411, 'LENGTH_REQUIRED', 'Send the request with a Content-Length header.');
  }
  if (!/^\d+$/.test(declared)) return refuse(response, 400, 'BAD_REQUEST', 'The Content-Length header is invalid.');
  if (Number(declared) > maxBytes)
    return refuse(response, 413, 'REQUEST_ENTITY_TOO_LARGE', `The request body is larger than ${maxBytes} bytes.`);
  return false;
}

function refuse(response: ServerResponse, status: number, code: ErrorCode, message: string): true {
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  // The unread body is not worth draining: close the connection once the answer is out.
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  response.end(body);
  return true;
}
