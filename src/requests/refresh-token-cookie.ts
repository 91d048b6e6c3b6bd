/**
 * Cookie mode (opt-in with REFRESH_TOKEN_COOKIE): browser frontends keep the refresh token in an
 * HttpOnly cookie that script cannot read. The gateway reads it when neither the argument nor the
 * header carries a token, and after a successful switch queues the ticket's refresh token to be set
 * back with the ticket's own expiry (`plugins/use-refresh-token-cookie.ts` writes the queue out).
 */
import { parseCookie, stringifySetCookie } from 'cookie';
import { GRAPHQL_PATH } from '../paths.js';
import type { RequestView } from './context.js';

/** The properties a ticket must carry for the cookie to be set, whatever the query selected. */
export const COOKIE_TICKET_PROPERTIES = ['refreshToken', 'refreshTokenExpiration'] as const;

/** Keyed by the request object resolvers see (a fetch Request, or the fast path's view of one). */
const pending = new WeakMap<object, string[]>();

export function refreshTokenFromCookie(request: RequestView, name: string): string | undefined {
  const header = request.headers.get('cookie');
  if (!header) return undefined;
  return parseCookie(header)[name] || undefined;
}

export function setRefreshTokenCookie(
  request: RequestView,
  name: string,
  ticket: { refreshToken?: string | null; refreshTokenExpiration?: string },
): void {
  if (!ticket.refreshToken) return;
  const expires = ticket.refreshTokenExpiration ? new Date(ticket.refreshTokenExpiration) : undefined;
  const cookie = stringifySetCookie({
    name,
    value: ticket.refreshToken,
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: GRAPHQL_PATH,
    ...(expires && !Number.isNaN(expires.getTime()) && { expires }),
  });
  pending.set(request, [...(pending.get(request) ?? []), cookie]);
}

/** The `Set-Cookie` values resolvers queued for this request. */
export function queuedCookies(request: object): readonly string[] {
  return pending.get(request) ?? [];
}
