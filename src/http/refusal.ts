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

/** The coded JSON body of a refusal, as a GraphQL error would carry it. */
export function refusalBody({ code, message }: Refusal): string {
  return JSON.stringify({ errors: [{ message, extensions: { code } }] });
}

export function sendRefusal(response: ServerResponse, refusal: Refusal): void {
  const body = refusalBody(refusal);
  response.writeHead(refusal.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    connection: 'close',
  });
  response.end(body);
}
