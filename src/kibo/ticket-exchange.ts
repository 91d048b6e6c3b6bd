/**
 * One ticket request to Kibo, read straight off undici's dispatch API into memory under a byte
 * cap. The high-level `pool.request` would wrap every call in a body stream, an abort-signal
 * listener and a promise per phase; this handler is one object per call, and it can be aborted
 * from outside (the deadline sweep) without any per-call timer, AbortController or listener.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { unavailable } from './errors.js';

/** What the client needs from an answer: its status, headers and the body as text. */
export interface TicketResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Anything that can say the caller went away: an AbortSignal, or a cheap view of a socket. */
export interface CallerSignal {
  readonly aborted: boolean;
}

const TICKET_CONTENT_TYPES = new Set(['application/json', 'text/json', 'text/plain']);
/** Error bodies only need Kibo's code and message: past this, the status alone is reported. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Socket-level failures: the connection was closed or reset under the request. */
const CONNECTION_LOST = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** Connections that have carried a request. */
const usedConnections = new WeakSet<Socket>();
/** The exchange whose request undici is writing now: set in onRequestStart, read by the message below. */
let starting: TicketExchange | undefined;
// undici calls a handler's onRequestStart and then, synchronously, publishes this message with the
// socket the request goes out on, just before writing it: how an exchange learns whether its
// connection is fresh or kept alive from an earlier request.
subscribe('undici:client:sendHeaders', (message) => {
  if (!starting) return;
  const { socket } = message as { socket: Socket };
  starting.reusedConnection = usedConnections.has(socket);
  usedConnections.add(socket);
  starting = undefined;
});

export class TicketExchange implements Dispatcher.DispatchHandler {
  /** Whether the request went out on a connection that had carried an earlier request. */
  reusedConnection = false;
  /** Kept by the deadline sweep while it tracks the exchange. */
  sweepSlot = -1;
  /** Set by the first byte of an answer (a 1xx included). */
  private answered = false;
  private failure: Error | undefined;
  readonly response: Promise<TicketResponse>;
  private resolve!: (response: TicketResponse) => void;
  private reject!: (error: Error) => void;
  private controller: Dispatcher.DispatchController | undefined;
  /** Set when the exchange was ended before undici handed over its controller. */
  private abortReason: Error | undefined;
  private settled = false;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private limit: number;

  /**
   * @param deadline `performance.now()` past which the sweep ends the exchange.
   * @param callerSignal the caller going away ends the exchange too (checked by the sweep).
   * @param maxResponseBytes cap on a successful answer's body; larger ones are refused, not buffered.
   */
  constructor(
    readonly deadline: number,
    readonly callerSignal: CallerSignal | undefined,
    private readonly maxResponseBytes: number,
  ) {
    this.limit = maxResponseBytes;
    this.response = new Promise<TicketResponse>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Ends the exchange with `reason` (a deadline or the caller leaving): settles now, closes the socket. */
  abort(reason: Error): void {
    if (this.settled) return;
    this.fail(reason);
  }

  /** The answer's headers once they arrived (`{}` before), whatever became of its body. */
  get answerHeaders(): IncomingHttpHeaders {
    return this.headers;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    starting = this;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.answered = true;
    // 1xx answers are informational; the real one follows.
    if (statusCode < 200 || this.settled) return;
    this.status = statusCode;
    this.headers = headers;
    if (statusCode < 300) {
      const contentType = mediaType(headers['content-type']);
      if (!TICKET_CONTENT_TYPES.has(contentType))
        return this.fail(unavailable(`unexpected content type ${contentType || '(none)'}`));
    } else {
      this.limit = MAX_ERROR_BODY_BYTES;
    }
    // A declared length over the cap is refused before a byte of the body is read.
    if (Number(first(headers['content-length'])) > this.limit) this.overflow();
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.size += chunk.length;
    if (this.size > this.limit) return this.overflow();
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    const { chunks } = this;
    const body =
      chunks.length === 1
        ? chunks[0]!.toString('utf8')
        : chunks.length
          ? Buffer.concat(chunks, this.size).toString('utf8')
          : '';
    this.resolve({ status: this.status, headers: this.headers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.failure = error;
    this.reject(error);
  }

  /**
   * True when the request went out on a kept-alive connection that was then closed or reset before
   * a single byte of an answer came back: the signature of the server closing an idle connection as
   * the request arrived (its keep-alive timeout), which it closes without reading the request. Such
   * a request may be sent again on another connection (see KiboClient).
   */
  get lostOnKeptAliveConnection(): boolean {
    const code = (this.failure as { code?: string } | undefined)?.code;
    return this.reusedConnection && !this.answered && code !== undefined && CONNECTION_LOST.has(code);
  }

  /** Too large: a ticket is refused; an error answer keeps its status and loses its body. */
  private overflow(): void {
    if (this.status >= 300) {
      this.settled = true;
      this.resolve({ status: this.status, headers: this.headers, body: '' });
      this.closeConnection(unavailable('error body too large'));
      return;
    }
    this.fail(unavailable('response too large'));
  }

  private fail(reason: Error): void {
    this.settled = true;
    this.chunks = [];
    this.reject(reason);
    this.closeConnection(reason);
  }

  /** Aborting mid-answer closes the socket: the rest of the body is never read. */
  private closeConnection(reason: Error): void {
    if (this.controller) this.controller.abort(reason);
    else this.abortReason = reason;
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function mediaType(value: string | string[] | undefined): string {
  const header = first(value);
  if (!header) return '';
  const semicolon = header.indexOf(';');
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}
