/**
 * Which credentials a call to Kibo carries. The gateway holds none of its own: the bearer comes
 * from the caller's `Authorization` header, the refresh token from the mutation argument or else
 * the `X-Kibo-Refresh-Token` header.
 */
import { unauthenticated } from './upstream-errors.js';

export const REFRESH_TOKEN_HEADER = 'x-kibo-refresh-token';

export interface KiboCredentials {
  authorization: string;
  refreshToken: string;
}

export function credentialsFor(request: Request, refreshTokenArgument: string | null | undefined): KiboCredentials {
  const authorization = request.headers.get('authorization')?.trim();
  if (!authorization || !/^Bearer\s+\S/i.test(authorization)) {
    throw unauthenticated('Send the Kibo bearer token in the Authorization header ("Authorization: Bearer <token>").');
  }
  const refreshToken = refreshTokenArgument?.trim() || request.headers.get(REFRESH_TOKEN_HEADER)?.trim();
  if (!refreshToken) {
    throw unauthenticated('Give the refresh token as the refreshToken argument or in the X-Kibo-Refresh-Token header.');
  }
  return { authorization, refreshToken };
}
