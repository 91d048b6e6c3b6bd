/**
 * Which credentials a call to Kibo carries. The gateway holds none of its own: the bearer comes
 * from the caller's `Authorization` header, the refresh token from the mutation argument or else
 * the `X-Kibo-Refresh-Token` header, or else (cookie mode) the refresh-token cookie.
 */
import type { RequestView } from './context.js';
import { refreshTokenFromCookie } from './refresh-token-cookie.js';
import { unauthenticated } from './upstream-errors.js';

export const REFRESH_TOKEN_HEADER = 'x-kibo-refresh-token';

export interface KiboCredentials {
  authorization: string;
  refreshToken: string;
}

export function credentialsFor(
  request: RequestView,
  refreshTokenArgument: string | null | undefined,
  refreshTokenCookie?: string,
): KiboCredentials {
  const authorization = request.headers.get('authorization')?.trim();
  if (!authorization || !/^Bearer\s+\S/i.test(authorization)) {
    throw unauthenticated('Send the Kibo bearer token in the Authorization header ("Authorization: Bearer <token>").');
  }
  const refreshToken =
    refreshTokenArgument?.trim() ||
    request.headers.get(REFRESH_TOKEN_HEADER)?.trim() ||
    (refreshTokenCookie ? refreshTokenFromCookie(request, refreshTokenCookie) : undefined);
  if (!refreshToken) {
    throw unauthenticated(
      'Give the refresh token as the refreshToken argument or in the X-Kibo-Refresh-Token header' +
        `${refreshTokenCookie ? ` (or the ${refreshTokenCookie} cookie)` : ''}.`,
    );
  }
  return { authorization, refreshToken };
}
