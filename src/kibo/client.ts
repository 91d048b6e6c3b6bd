/**
 * The Kibo REST client: one keep-alive undici Pool, strict timeouts, a cap on what it will buffer,
 * and one outcome per call — a ticket or a KiboError. It never retries: a refresh mints tokens, so
 * repeating it is the caller's decision, not ours.
 */
import { Pool } from 'undici';
import type { UpstreamConfig } from '../config.js';
import { KiboError, kiboStatusError, parseRetryAfter, unavailable, type KiboErrorDetails } from './errors.js';
import type { paths } from '../generated/kibo-rest.js';
import type { KiboTicket } from './types.js';

export interface RefreshTicketCall {
  tenantId: number;
  /** Kibo's projection; undefined asks for the full ticket. */
  responseFields?: string | undefined;
  /** The caller's `Authorization` header, forwarded unchanged. */
  authorization: string;
  refreshToken: string;
  /** The GraphQL request's signal: when the client goes away, so does the upstream call. */
  signal?: AbortSignal | undefined;
}

/** What one upstream exchange cost, for logs and the benchmark; never carries credentials. */
export interface UpstreamCallEvent {
  tenantId: number;
  status: number | undefined;
  code: string | undefined;
  responseBytes: number;
  durationMs: number;
}

/** The operation's path in the spec (typed against the generated paths), under the server's `/api`. */
const SPEC_TICKET_PATH: keyof paths = '/platform/adminuser/authtickets/tenants';
export const TICKET_PATH = `/api${SPEC_TICKET_PATH}`;
const TICKET_CONTENT_TYPES = new Set(['application/json', 'text/json', 'text/plain']);
/** Error bodies only need Kibo's code and message. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export class KiboClient {
  private readonly pool: Pool;
  private readonly pathPrefix: string;
  /** How long a query string may get, and how to measure one, for callers that shape projections. */
  readonly queryBudget: { maxLength: number; measure(responseFields: string): number };

  constructor(
    baseUrl: string,
    private readonly config: UpstreamConfig,
    private readonly onCall?: (event: UpstreamCallEvent) => void,
  ) {
    const url = new URL(baseUrl);
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    this.queryBudget = { maxLength: config.maxQueryLength, measure: ticketQueryLength };
    this.pool = createKiboPool(url.origin, config);
  }

  async refreshAuthTicket(call: RefreshTicketCall): Promise<KiboTicket> {
    const started = performance.now();
    const event: UpstreamCallEvent = {
      tenantId: call.tenantId,
      status: undefined,
      code: undefined,
      responseBytes: 0,
      durationMs: 0,
    };
    try {
      return await this.exchange(call, event);
    } catch (error) {
      const failure = error instanceof KiboError ? error : this.classify(error, call.signal);
      event.code = failure.code;
      throw scrubbed(failure, [call.authorization, call.refreshToken]);
    } finally {
      event.durationMs = performance.now() - started;
      this.onCall?.(event);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async exchange(call: RefreshTicketCall, event: UpstreamCallEvent): Promise<KiboTicket> {
    const query = new URLSearchParams({ tenantId: String(call.tenantId) });
    if (call.responseFields !== undefined) query.set('responseFields', call.responseFields);

    const deadline = new Deadline(this.config.requestTimeoutMs, call.signal);
    try {
      return await this.send(call, query, deadline.signal, event);
    } finally {
      deadline.clear();
    }
  }

  private async send(
    call: RefreshTicketCall,
    query: URLSearchParams,
    signal: AbortSignal,
    event: UpstreamCallEvent,
  ): Promise<KiboTicket> {
    const response = await this.pool.request({
      method: 'PUT',
      path: `${this.pathPrefix}${TICKET_PATH}?${query}`,
      headers: {
        authorization: call.authorization,
        'content-type': 'application/json',
        accept: 'application/json, text/json;q=0.9, text/plain;q=0.8',
      },
      body: JSON.stringify({ refreshToken: call.refreshToken }),
      signal,
    });
    event.status = response.statusCode;

    const contentType = String(response.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    if (response.statusCode >= 200 && response.statusCode < 300) {
      if (!TICKET_CONTENT_TYPES.has(contentType)) {
        await response.body.dump();
        throw unavailable(`unexpected content type ${contentType || '(none)'}`);
      }
      const payload = await readCapped(response.body, this.config.maxResponseBytes, response.headers['content-length']);
      event.responseBytes = payload.length;
      return parseTicket(payload.toString('utf8'));
    }

    const details = await readErrorDetails(response.body, contentType);
    details.retryAfterSeconds = parseRetryAfter(header(response.headers['retry-after']));
    throw kiboStatusError(response.statusCode, details);
  }

  private classify(error: unknown, callerSignal: AbortSignal | undefined): KiboError {
    if (error instanceof DeadlineExceeded) return unavailable('timeout');
    if (callerSignal?.aborted) return unavailable('the request was cancelled');
    // undici names its failures by `code`; an aborted request rejects with the abort reason.
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
}

/** The connection pool to Kibo; exported so the benchmark's proxy floor pays exactly the same. */
export function createKiboPool(origin: string, config: UpstreamConfig): Pool {
  return new Pool(origin, {
    connections: config.connections,
    connect: { timeout: config.connectTimeoutMs },
    headersTimeout: config.headersTimeoutMs,
    bodyTimeout: config.bodyTimeoutMs,
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

class DeadlineExceeded extends Error {}

/**
 * One signal that aborts when the caller goes away or the deadline passes. Built by hand rather
 * than with AbortSignal.timeout/any: those allocate timers and DOMExceptions on every call, and on
 * the hot path that showed in profiles. Nothing fires when the call completes in time.
 */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onCallerAbort = () => this.controller.abort(this.callerSignal?.reason);

  constructor(
    timeoutMs: number,
    private readonly callerSignal: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(() => this.controller.abort(new DeadlineExceeded()), timeoutMs);
    if (callerSignal?.aborted) this.onCallerAbort();
    else callerSignal?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  clear(): void {
    clearTimeout(this.timer);
    this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  limit: number,
  declaredLength: string | string[] | undefined,
): Promise<Buffer> {
  if (Number(header(declaredLength)) > limit) {
    body.destroy();
    throw unavailable('response too large');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw unavailable('response too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
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

async function readErrorDetails(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  contentType: string,
): Promise<KiboErrorDetails> {
  try {
    const text = (await readCapped(body, MAX_ERROR_BODY_BYTES, undefined)).toString('utf8');
    if (!contentType.includes('json') || !text) return {};
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

/** Kibo's message is passed on to the client, so it must not echo back what the caller sent. */
function scrubbed(error: KiboError, secrets: string[]): KiboError {
  const message = error.details.kiboMessage;
  if (!message) return error;
  let clean = message;
  for (const secret of secrets) {
    const bare = secret.replace(/^Bearer\s+/i, '');
    if (bare.length >= 4) clean = clean.split(bare).join('[redacted]');
  }
  if (clean !== message) error.details.kiboMessage = clean;
  return error;
}
