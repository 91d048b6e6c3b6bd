/**
 * The Kibo REST client: one keep-alive undici Pool, strict timeouts, a cap on what it will buffer,
 * and one outcome per call — a ticket or a KiboError. It retries in one case only: a request that
 * went out on a kept-alive connection which was closed or reset before any byte of an answer came
 * back is sent once more (see `exchange`). Anything else is the caller's decision: a refresh mints
 * tokens.
 */
import { Pool } from 'undici';
import type { UpstreamConfig } from '../config.js';
import { CallerGone, DeadlineExceeded, DeadlineSweep } from './deadline-sweep.js';
import { KiboError, kiboStatusError, parseRetryAfter, unavailable, type KiboErrorDetails } from './errors.js';
import type { paths } from '../generated/kibo-rest.js';
import { QuerySuffixes } from './query-suffixes.js';
import { TicketExchange, type CallerSignal } from './ticket-exchange.js';
import type { KiboTicket } from './types.js';
import { safeKiboErrorCode, safeKiboMessage } from './scrub.js';
import { validatedTicket } from './validate-ticket.js';

export interface RefreshTicketCall {
  tenantId: number;
  /** Kibo's projection; undefined asks for the full ticket. */
  responseFields?: string | undefined;
  /** The caller's `Authorization` header, forwarded unchanged. */
  authorization: string;
  refreshToken: string;
  /** The GraphQL request's signal: when the client goes away, so does the upstream call. */
  signal?: CallerSignal | undefined;
  /** Told how this call went (the request's log line reads Kibo's correlation id from it). */
  onDone?: ((event: UpstreamCallEvent) => void) | undefined;
}

/** What one upstream exchange cost, for logs and the benchmark; never carries credentials. */
export interface UpstreamCallEvent {
  tenantId: number;
  status: number | undefined;
  code: string | undefined;
  responseBytes: number;
  durationMs: number;
  /** Sent a second time after its kept-alive connection was lost before any answer. */
  retried?: boolean;
  /** Kibo's own `errorCode` when it answered with one. */
  kiboErrorCode: string | undefined;
  /** Kibo's `x-vol-correlation` answer header (what Kibo support asks for), when well-formed. */
  correlationId: string | undefined;
}

/**
 * Watches each call from before it is sent to its end (tracing). Without one, a call pays nothing.
 * `headers` are added to the request (trace context); `end` gets the call's event.
 */
export interface UpstreamCallObserver {
  start(call: { method: 'PUT'; pathTemplate: string; tenantId: number }): {
    headers: Record<string, string>;
    end(event: UpstreamCallEvent): void;
  };
}

/** The operation's path in the spec (typed against the generated paths), under the server's `/api`. */
const SPEC_TICKET_PATH: keyof paths = '/platform/adminuser/authtickets/tenants';
export const TICKET_PATH = `/api${SPEC_TICKET_PATH}`;
/** Kibo's ids are 32 hex digits; anything else is bounded to safe characters or dropped. */
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export class KiboClient {
  private readonly pool: Pool;
  private readonly ticketPath: string;
  private readonly sweep: DeadlineSweep;
  /** The encoded `&responseFields=…` of each projection seen, so a call builds no query string. */
  private readonly querySuffixes = new QuerySuffixes();
  /** How long a query string may get, and how to measure one, for callers that shape projections. */
  readonly queryBudget: { maxLength: number; measure(responseFields: string): number };

  constructor(
    baseUrl: string,
    private readonly config: UpstreamConfig,
    private readonly onCall?: (event: UpstreamCallEvent) => void,
    private readonly observer?: UpstreamCallObserver,
  ) {
    const url = new URL(baseUrl);
    this.ticketPath = `${url.pathname.replace(/\/+$/, '')}${TICKET_PATH}`;
    this.queryBudget = { maxLength: config.maxQueryLength, measure: ticketQueryLength };
    this.pool = createKiboPool(url.origin, config);
    this.sweep = DeadlineSweep.forTimeout(config.requestTimeoutMs);
  }

  async refreshAuthTicket(call: RefreshTicketCall): Promise<KiboTicket> {
    const started = performance.now();
    const event: UpstreamCallEvent = {
      tenantId: call.tenantId,
      status: undefined,
      code: undefined,
      responseBytes: 0,
      durationMs: 0,
      kiboErrorCode: undefined,
      correlationId: undefined,
    };
    const observed = this.observer?.start({ method: 'PUT', pathTemplate: TICKET_PATH, tenantId: call.tenantId });
    try {
      return await this.exchange(call, started, event, observed?.headers);
    } catch (error) {
      const failure = error instanceof KiboError ? error : classify(error, call.signal);
      event.code = failure.code;
      event.kiboErrorCode = failure.details.kiboErrorCode;
      // An error that came from Kibo's answer carries the id Kibo support can look up.
      if (event.correlationId) failure.details.correlationId = event.correlationId;
      throw scrubbed(failure, [call.authorization, call.refreshToken]);
    } finally {
      event.durationMs = performance.now() - started;
      this.onCall?.(event);
      call.onDone?.(event);
      observed?.end(event);
    }
  }

  /** Waits for the calls in flight (the sweep still ends them at their deadline or when their caller leaves). */
  async close(): Promise<void> {
    await this.pool.close();
    this.sweep.close();
  }

  /**
   * One call, sent a second time (within the same deadline) only when the first went out on a
   * kept-alive connection that Kibo closed or reset before sending a byte back. That is the race
   * every keep-alive client meets when a server closes an idle connection just as a request is
   * written to it: the server closes without reading the request, so Kibo never saw it, and the
   * caller would get UPSTREAM_UNAVAILABLE for nothing. The PUT is idempotent in HTTP's sense
   * (RFC 9110 §9.2.2 lets a client repeat it after a lost connection; nginx does), and in effect
   * too: it changes nothing the caller relies on (the refresh token stays valid), so had Kibo
   * processed the lost request after all, the worst case is one more access token that nobody holds
   * and that expires on its own. A request that failed on a fresh connection, or after any byte of an
   * answer, is not sent again: there Kibo may have worked on it, and the failure is reported.
   */
  private async exchange(
    call: RefreshTicketCall,
    started: number,
    event: UpstreamCallEvent,
    extraHeaders: Record<string, string> | undefined,
  ): Promise<KiboTicket> {
    for (let attempt = 1; ; attempt++) {
      if (call.signal?.aborted) throw new CallerGone();
      const exchange = new TicketExchange(
        started + this.config.requestTimeoutMs,
        call.signal,
        this.config.maxResponseBytes,
      );
      try {
        return await this.attempt(exchange, call, event, extraHeaders);
      } catch (error) {
        if (attempt > 1 || !exchange.lostOnKeptAliveConnection || performance.now() >= exchange.deadline) throw error;
        event.retried = true;
      }
    }
  }

  private async attempt(
    exchange: TicketExchange,
    call: RefreshTicketCall,
    event: UpstreamCallEvent,
    extraHeaders: Record<string, string> | undefined,
  ): Promise<KiboTicket> {
    this.sweep.track(exchange);
    const headers: Record<string, string> = {
      authorization: call.authorization,
      'content-type': 'application/json',
      accept: 'application/json, text/json;q=0.9, text/plain;q=0.8',
    };
    if (extraHeaders) Object.assign(headers, extraHeaders);
    try {
      this.pool.dispatch(
        {
          method: 'PUT',
          path: `${this.ticketPath}?tenantId=${call.tenantId}${this.querySuffixes.for(call.responseFields)}`,
          headers,
          body: JSON.stringify({ refreshToken: call.refreshToken }),
        },
        exchange,
      );
      const response = await exchange.response;
      event.status = response.status;
      if (response.status >= 200 && response.status < 300) {
        event.responseBytes = Buffer.byteLength(response.body);
        return validatedTicket(parseTicket(response.body));
      }
      const details = errorDetails(response.body, response.headers['content-type']);
      details.retryAfterSeconds = parseRetryAfter(header(response.headers['retry-after']));
      throw kiboStatusError(response.status, details);
    } finally {
      this.sweep.untrack(exchange);
      // Whatever became of the body, an answer that arrived names itself.
      event.correlationId = correlationId(exchange.answerHeaders['x-vol-correlation'], call);
    }
  }
}

function classify(error: unknown, callerSignal: CallerSignal | undefined): KiboError {
  if (error instanceof DeadlineExceeded) return unavailable('timeout');
  if (error instanceof CallerGone || callerSignal?.aborted) return unavailable('the request was cancelled');
  // undici names its failures by `code`.
  switch ((error as { code?: string }).code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return unavailable('connect timeout');
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return unavailable('timeout');
    case 'ECONNREFUSED':
      return unavailable('connection refused');
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
    case 'EPIPE':
      return unavailable('connection reset');
    default:
      return unavailable('request failed');
  }
}

/** The connection pool to Kibo; exported so the benchmark's proxy floor pays exactly the same. */
export function createKiboPool(origin: string, config: UpstreamConfig): Pool {
  return new Pool(origin, {
    connections: config.connections,
    connect: { timeout: config.connectTimeoutMs },
    headersTimeout: config.headersTimeoutMs,
    bodyTimeout: config.bodyTimeoutMs,
    // How long an idle connection is kept. undici keeps it shorter when the server announces its own
    // limit (`Keep-Alive: timeout=N`): N minus 2 s, so 3 s against Node's default 5 s (the emulator).
    // The race left at that edge is covered by the one retry in KiboClient.exchange.
    keepAliveTimeout: 30_000,
  });
}

/**
 * The query string a call carries, measured for the longest tenantId (11 characters), so one
 * measurement holds for every tenant.
 */
export function ticketQueryLength(responseFields: string): number {
  return new URLSearchParams({ tenantId: '-2147483648', responseFields }).toString().length;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Kibo's correlation id, if it is one: bounded, safe characters, and never a credential echoed back. */
function correlationId(value: string | string[] | undefined, call: RefreshTicketCall): string | undefined {
  const id = header(value);
  if (id === undefined || !CORRELATION_ID.test(id)) return undefined;
  return containsSecret(id, [call.authorization, call.refreshToken]) ? undefined : id;
}

function containsSecret(text: string, secrets: string[]): boolean {
  return secrets.some((secret) => {
    const bare = secret.replace(/^Bearer\s+/i, '');
    return bare.length >= 4 && text.includes(bare);
  });
}

function parseTicket(text: string): KiboTicket {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw unavailable('malformed JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw unavailable('the answer is not a ticket');
  return parsed as KiboTicket;
}

function errorDetails(text: string, contentType: string | string[] | undefined): KiboErrorDetails {
  if (
    !text ||
    !String(contentType ?? '')
      .toLowerCase()
      .includes('json')
  )
    return {};
  try {
    const parsed = JSON.parse(text) as { errorCode?: unknown; message?: unknown };
    return {
      kiboErrorCode: typeof parsed.errorCode === 'string' ? parsed.errorCode : undefined,
      kiboMessage: typeof parsed.message === 'string' ? parsed.message : undefined,
    };
  } catch {
    // An error body we cannot read still has a status worth reporting.
    return {};
  }
}

/** Kibo's code and message are passed on to the client: only what is safe (see scrub.ts). */
function scrubbed(error: KiboError, secrets: string[]): KiboError {
  error.details.kiboErrorCode = safeKiboErrorCode(error.details.kiboErrorCode);
  error.details.kiboMessage = safeKiboMessage(error.details.kiboMessage, secrets);
  return error;
}
