/**
 * One log line and one metric per request, written when the response closes, so both state what the
 * client really got: the status sent; 408 when the gateway timed the request out (the client was too
 * slow sending it); 499 when the client went away before the answer was out. A request cut short is
 * never counted or logged as the 200 Yoga may have meant to send.
 *
 * Failures before a request exists (malformed HTTP, headers too slow) reach the server's
 * `clientError` event; they get a coded JSON answer where the socket can still take one, and the
 * same kind of line.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { GRAPHQL_PATH, HEALTH_PATH } from '../paths.js';
import { requestLineLogger, type Logger } from '../telemetry/logger.js';
import { METRICS_PATH, type GatewayMetrics } from '../telemetry/metrics.js';
import { addNotedFields } from '../telemetry/request-notes.js';
import { assignRequestId } from '../telemetry/request-id.js';
import { refusalBody, sendRefusal, type Refusal } from './refusal.js';

/** nginx's code for "the client closed the request", which Node has no name for. */
export const CLIENT_CLOSED_REQUEST = 499;

/** Paths are logged from this closed set only: the raw target is the client's to fill. */
const LOGGED_PATHS = new Set([GRAPHQL_PATH, METRICS_PATH]);

const TIMED_OUT: Refusal = {
  status: 408,
  code: 'REQUEST_TIMEOUT',
  message: 'The request was not received in time.',
};
const HEADERS_TOO_LARGE: Refusal = {
  status: 431,
  code: 'REQUEST_HEADER_FIELDS_TOO_LARGE',
  message: 'The request headers are too large.',
};
const MALFORMED: Refusal = { status: 400, code: 'BAD_REQUEST', message: 'The request is not valid HTTP.' };

export class RequestOutcomes {
  /** The response in flight on each socket, so a timeout on it is logged on that request's line. */
  private readonly inFlight = new WeakMap<Socket, ServerResponse>();
  private readonly timedOut = new WeakSet<Socket>();

  /** The per-request line's logger: fixed redaction paths, as it runs on every request. */
  private readonly logger: Logger;

  constructor(
    logger: Logger,
    private readonly metrics: GatewayMetrics | undefined,
  ) {
    this.logger = requestLineLogger(logger);
  }

  /** Watches one request to its end; `refusal` when the listener answered it itself. */
  track(request: IncomingMessage, response: ServerResponse, refusal?: Refusal): void {
    const started = performance.now();
    const requestId = assignRequestId(request, response);
    const socket = request.socket;
    this.inFlight.set(socket, response);
    response.once('close', () => {
      if (this.inFlight.get(socket) === response) this.inFlight.delete(socket);
      const cutShort = !response.writableFinished;
      const status = cutShort
        ? this.timedOut.has(socket)
          ? TIMED_OUT.status
          : CLIENT_CLOSED_REQUEST
        : response.statusCode;
      this.metrics?.recordResponse(status);
      if (cutShort) this.metrics?.recordCutShort(status === CLIENT_CLOSED_REQUEST ? 'client_closed' : 'timeout');
      const path = pathOf(request.url ?? '');
      // Probes are not worth a line each; a refused or broken one is.
      if (path === HEALTH_PATH && status < 400) return;
      // Field by field, in the line's order: spreads would build an object per optional part.
      const line: Record<string, unknown> = {
        requestId,
        method: request.method,
        path: LOGGED_PATHS.has(path) ? path : '(other)',
        status,
      };
      if (refusal) line.code = refusal.code;
      if (cutShort) line.cutShort = status === CLIENT_CLOSED_REQUEST ? 'client closed' : 'timed out';
      addNotedFields(request, line);
      line.durationMs = Math.round((performance.now() - started) * 100) / 100;
      this.write(status, line);
    });
  }

  /** Answers a request the listener refuses itself, and tracks it like any other. */
  refuse(request: IncomingMessage, response: ServerResponse, refusal: Refusal): void {
    this.track(request, response, refusal);
    sendRefusal(response, refusal);
  }

  /** The server's `clientError` listener: Node's own answers, but coded, logged and counted. */
  readonly onClientError = (error: NodeJS.ErrnoException, socket: Socket): void => {
    const answer =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? TIMED_OUT
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? HEADERS_TOO_LARGE
          : error.code?.startsWith('HPE_')
            ? MALFORMED
            : undefined;
    // Anything else (a reset, a broken pipe) is a client gone: its request, if any, logs 499.
    if (!answer) return void socket.destroy();
    if (answer === TIMED_OUT) this.timedOut.add(socket);
    if (socket.writable && socket.bytesWritten === 0) {
      const body = refusalBody(answer);
      socket.write(
        `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
    // A request already handed to the app is logged by its own response's close.
    if (this.inFlight.has(socket)) return;
    this.metrics?.recordResponse(answer.status);
    if (answer === TIMED_OUT) this.metrics?.recordCutShort('timeout');
    this.write(answer.status, { status: answer.status, code: answer.code, reason: answer.message });
  };

  private write(status: number, line: Record<string, unknown>): void {
    if (status >= 500) this.logger.error(line, 'request');
    else if (status >= 400) this.logger.warn(line, 'request');
    else this.logger.info(line, 'request');
  }
}

/** The request target without its query. */
function pathOf(target: string): string {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}
