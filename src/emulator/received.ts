/**
 * The record the emulator keeps of each request it serves, for tests to assert on. Kept apart from
 * the server so a test's stand-in Kibo (test/support/hostile-kibo.ts) records the same way.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Kibo's header naming one answer, the id Kibo support asks for. */
export const CORRELATION_HEADER = 'x-vol-correlation';

/** What the emulator saw of one request. Never holds credentials. */
export interface ReceivedRequest {
  method: string;
  /** The client's name, for a request sent under `/__client/<name>`; null otherwise. */
  client: string | null;
  path: string;
  tenantId: string | null;
  responseFields: string | null;
  hadAuthorization: boolean;
  status: number;
  /** The client went away before the answer was complete (an abort or a timeout). */
  clientAborted: boolean;
  /** The `x-vol-correlation` id this answer carried. */
  correlationId: string;
  /** The W3C `traceparent` the request carried, if any. */
  traceparent: string | null;
  /** The W3C `baggage` the request carried, if any. */
  baggage: string | null;
}

/**
 * Starts the record of one request: gives the answer a fresh correlation id (Kibo puts one on every
 * answer, errors included; set before any reply path so `writeHead` sends it too) and fills in the
 * status and whether the client left early once the answer is closed.
 */
export function recordRequest(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  client: string | null,
): ReceivedRequest {
  const correlationId = randomBytes(16).toString('hex');
  response.setHeader(CORRELATION_HEADER, correlationId);
  const { traceparent, baggage } = request.headers;
  const record: ReceivedRequest = {
    method: request.method ?? '',
    client,
    path: url.pathname,
    tenantId: url.searchParams.get('tenantId'),
    responseFields: url.searchParams.get('responseFields'),
    hadAuthorization: request.headers.authorization !== undefined,
    status: 0,
    clientAborted: false,
    correlationId,
    traceparent: typeof traceparent === 'string' ? traceparent : null,
    baggage: typeof baggage === 'string' ? baggage : null,
  };
  response.on('close', () => {
    record.status = response.statusCode;
    record.clientAborted = !response.writableFinished;
  });
  return record;
}
