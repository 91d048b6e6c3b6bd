/**
 * A faithful stand-in for Kibo's Refresh Auth Ticket endpoint, on a real HTTP port. `npm start`
 * runs it when no KIBO_BASE_URL is given, tests run it to see exactly what the gateway sends, and
 * the benchmark measures against it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KiboTenant, KiboTicket } from '../kibo/types.js';
import { createDemoDirectory, type DemoRefreshToken } from './demo-data.js';
import { parseFault, playFault } from './faults.js';
import { recordRequest, type ReceivedRequest } from './received.js';
import { sendJson, sendKiboError, type TicketContentType } from './replies.js';
import {
  applyResponseFields,
  parseResponseFields,
  ResponseFieldsSyntaxError,
  type FieldSelection,
} from './response-fields.js';
import { compileSpecValidators, REFRESH_TICKET_PATH } from './spec.js';
import { TokenRegistry } from './tokens.js';

export interface EmulatorOptions {
  port?: number;
  host?: string;
  /** Honour `emulator-fault:*` bearer tokens (tests only; see faults.ts). */
  faultInjection?: boolean;
  /** Which of the spec's three content types successful answers carry. */
  contentType?: TicketContentType;
  accessTokenLifetimeMs?: number;
  /** Requests kept for inspection; older ones are dropped. */
  historySize?: number;
  /** Serve `GET /__emulator/stats` (ticket requests and response bytes so far), for the benchmark. */
  exposeStats?: boolean;
}

export const STATS_PATH = '/__emulator/stats';
export type { ReceivedRequest } from './received.js';

/**
 * Clients that share one emulator (several test stacks) each take a base URL of their own,
 * `{url}/__client/<name>`, and the emulator records the name with each request, so each reads back
 * only what it sent. Kibo has no such prefix; the rest of the path is served as usual.
 */
export const CLIENT_PATH_PREFIX = '/__client/';
const CLIENT_PATH = /^\/__client\/([\w.-]+)(\/.*)$/;

export interface EmulatorStats {
  ticketRequests: number;
  responseBytes: number;
}

export interface RunningEmulator {
  url: string;
  port: number;
  /** The most recent requests, oldest first. */
  received: ReceivedRequest[];
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
const DECIMAL_INTEGER = /^-?\d{1,20}$/;

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const directory = createDemoDirectory(new Date());
  const tokens = new TokenRegistry(directory.appTokens, options.accessTokenLifetimeMs ?? 60 * 60 * 1000);
  const validate = compileSpecValidators();
  const historySize = options.historySize ?? 1_000;
  const received: ReceivedRequest[] = [];
  const stats: EmulatorStats = { ticketRequests: 0, responseBytes: 0 };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://emulator');
    const client = CLIENT_PATH.exec(url.pathname);
    if (client) url.pathname = client[2]!;
    if (options.exposeStats && url.pathname === STATS_PATH) return sendJson(response, 200, stats);
    const record = recordRequest(request, response, url, client ? client[1]! : null);
    received.push(record);
    if (received.length > historySize) received.shift();

    const aborted = new AbortController();
    response.on('close', () => {
      if (url.pathname === REFRESH_TICKET_PATH) {
        stats.ticketRequests++;
        stats.responseBytes += Number(response.getHeader('content-length') ?? 0);
      }
      if (!response.writableFinished) aborted.abort();
    });

    handle(request, response, url, aborted.signal).catch(() => {
      if (!response.headersSent) sendKiboError(response, 500, 'INTERNAL_ERROR', 'The emulator failed to answer');
      else response.destroy();
    });
  });

  async function handle(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    signal: AbortSignal,
  ): Promise<void> {
    if (url.pathname !== REFRESH_TICKET_PATH) {
      return sendKiboError(response, 404, 'ITEM_NOT_FOUND', `No resource at ${url.pathname}`);
    }
    if (request.method !== 'PUT') {
      return sendKiboError(response, 405, 'METHOD_NOT_ALLOWED', 'Use PUT to refresh an auth ticket', [], {
        allow: 'PUT',
      });
    }

    const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    const fault = options.faultInjection && bearer ? parseFault(bearer) : undefined;
    if (fault && (await playFault(fault, request, response, signal)) === 'done') return;
    if (signal.aborted) return;

    const now = new Date();
    if (!fault && (!bearer || !tokens.isValidBearer(bearer, now))) {
      return sendKiboError(response, 401, 'UNAUTHORIZED', 'Missing or invalid bearer token');
    }

    const tenantId = parseTenantId(url.searchParams.get('tenantId'), validate.tenantId);
    if (tenantId === undefined) {
      return sendKiboError(response, 400, 'MISSING_OR_INVALID_PARAMETER', 'tenantId must be a 32-bit integer', [
        { name: 'paramName', value: 'tenantId' },
      ]);
    }

    let selection: FieldSelection | undefined;
    const responseFields = url.searchParams.get('responseFields');
    if (responseFields !== null && responseFields !== '') {
      try {
        selection = parseResponseFields(responseFields);
      } catch (error) {
        if (!(error instanceof ResponseFieldsSyntaxError)) throw error;
        return sendKiboError(response, 400, 'MISSING_OR_INVALID_PARAMETER', error.message, [
          { name: 'paramName', value: 'responseFields' },
        ]);
      }
    }

    // The spec's request body is application/json only; Kibo's ASP.NET front answers anything else with 415.
    const requestType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (requestType !== undefined && requestType !== 'application/json') {
      return sendKiboError(response, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the auth ticket as application/json');
    }

    const body = await readJsonBody(request);
    if (body === undefined || !validate.ticket(body)) {
      return sendKiboError(
        response,
        400,
        'MISSING_OR_INVALID_PARAMETER',
        'The body must be an auth ticket (TenantAdminUserAuthTicket)',
        [{ name: 'paramName', value: 'authTicket' }],
      );
    }

    const refreshToken = (body as Partial<KiboTicket>).refreshToken;
    const grant = refreshToken ? directory.refreshTokens.get(refreshToken) : undefined;
    if (!grant || grant.expiresAt <= now) {
      return sendKiboError(response, 401, 'INVALID_REFRESH_TOKEN', 'The refresh token is unknown or has expired');
    }

    const tenant = grant.user.tenants.find((candidate) => candidate.id === tenantId);
    if (!tenant) {
      return sendKiboError(response, 403, 'TENANT_ACCESS_DENIED', `The user has no access to tenant ${tenantId}`, [
        { name: 'tenantId', value: String(tenantId) },
      ]);
    }

    const ticket = issueTicket(tokens, grant, tenant, refreshToken!, now);
    const answer = selection ? applyResponseFields(ticket, selection) : ticket;
    sendJson(response, 200, answer, options.contentType ?? 'application/json');
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Query strings are text: read a plain decimal, then let the spec's int32 schema judge it. */
function parseTenantId(raw: string | null, matchesSpec: (value: number) => boolean): number | undefined {
  if (raw === null || !DECIMAL_INTEGER.test(raw)) return undefined;
  const value = Number(raw);
  return matchesSpec(value) ? value : undefined;
}

function issueTicket(
  tokens: TokenRegistry,
  grant: DemoRefreshToken,
  tenant: KiboTenant,
  refreshToken: string,
  now: Date,
): KiboTicket {
  const { user } = grant;
  const minted = tokens.mint(user.profile.userId, tenant.id, now);
  return {
    accessToken: minted.accessToken,
    accessTokenExpiration: minted.expiresAt.toISOString(),
    jwtAccessToken: minted.jwtAccessToken,
    // Not rotated: the caller keeps using the same refresh token until it expires.
    refreshToken,
    refreshTokenExpiration: grant.expiresAt.toISOString(),
    createdOn: now.toISOString(),
    tenant,
    availableTenants: user.tenants,
    user: user.profile,
    grantedBehaviors: user.grantedBehaviors,
    redirect: null,
    ssoNameId: null,
    ssoSession: null,
  };
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
