/**
 * Cookie mode (opt-in with REFRESH_TOKEN_COOKIE): browser frontends keep the refresh token in an
 * HttpOnly cookie that script cannot read. The gateway reads it when neither the argument nor the
 * header carries a token, and after a successful switch sets the ticket's refresh token back with
 * the ticket's own expiry.
 */
import { parseCookie, stringifySetCookie } from 'cookie';
import type { Plugin } from 'graphql-yoga';
import { GRAPHQL_PATH } from '../paths.js';

/** The properties a ticket must carry for the cookie to be set, whatever the query selected. */
export const COOKIE_TICKET_PROPERTIES = ['refreshToken', 'refreshTokenExpiration'] as const;

const pending = new WeakMap<Request, string[]>();

export function refreshTokenFromCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get('cookie');
  if (!header) return undefined;
  return parseCookie(header)[name] || undefined;
}

export function setRefreshTokenCookie(request: Request, name: string, ticket: { refreshToken?: string | null; refreshTokenExpiration?: string }): void {
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

/** Moves the cookies resolvers queued for a request onto its response. */
export function refreshTokenCookies(): Plugin {
  return {
    onResponse({ request, response }) {
      for (const cookie of pending.get(request) ?? []) response.headers.append('set-cookie', cookie);
    },
  };
}
