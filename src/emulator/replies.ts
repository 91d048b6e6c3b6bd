/** How the emulator answers: JSON bodies, and errors in the shape Kibo's APIs use. */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

export type TicketContentType = 'application/json' | 'text/json' | 'text/plain';

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  contentType: TicketContentType = 'application/json',
  headers: OutgoingHttpHeaders = {},
): void {
  const payload = JSON.stringify(body);
  // Set one by one (not through writeHead) so the byte count stays readable for the stats.
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) response.setHeader(name, value);
  response.setHeader('content-type', `${contentType}; charset=utf-8`);
  response.setHeader('content-length', Buffer.byteLength(payload));
  response.writeHead(status);
  response.end(payload);
}

/** Kibo's error envelope: a message, a machine-readable code and name/value details. */
export function sendKiboError(
  response: ServerResponse,
  status: number,
  errorCode: string,
  message: string,
  additionalErrorData: Array<{ name: string; value: string }> = [],
  headers: OutgoingHttpHeaders = {},
): void {
  sendJson(
    response,
    status,
    { message, errorCode, applicationName: 'AdminUser', additionalErrorData, items: [] },
    'application/json',
    headers,
  );
}
