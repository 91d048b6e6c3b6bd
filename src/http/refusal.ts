/**
 * A refusal answered on the raw Node request, before Yoga sees it: the same coded JSON body a
 * GraphQL error would have, and the connection closed, since an unread body is not worth draining.
 */
import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../error-codes.js';

export interface Refusal {
  status: number;
  code: ErrorCode;
  /** Sent to the client and logged: never carries the request's own bytes. */
  message: string;
}

export function sendRefusal(response: ServerResponse, { status, code, message }: Refusal): void {
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    connection: 'close',
  });
  response.end(body);
}
