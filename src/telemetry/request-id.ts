/**
 * The request id every log line and answer of one HTTP request carries: the caller's `x-request-id`
 * when it is well-formed (a proxy or router in front set it, so their logs and ours meet), or a
 * fresh one. Bounded and restricted to safe characters, so a header cannot forge or flood log lines.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Settles the request's id as it arrives and echoes it on the answer, whoever writes it (the
 * listener's own refusals or Yoga). The id replaces the header on the request, so everything
 * downstream (the trace's server span) reads this one id.
 */
export function assignRequestId(request: IncomingMessage, response: ServerResponse): string {
  const given = request.headers[REQUEST_ID_HEADER];
  // Sent twice, Node joins the values with ", ": not well-formed, so a fresh id.
  const id = typeof given === 'string' && WELL_FORMED.test(given) ? given : randomUUID();
  request.headers[REQUEST_ID_HEADER] = id;
  response.setHeader(REQUEST_ID_HEADER, id);
  return id;
}
