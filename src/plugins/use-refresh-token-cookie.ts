/** Cookie mode: moves the refresh-token cookies resolvers queued for a request onto its response. */
import type { Plugin } from 'graphql-yoga';
import { queuedCookies } from '../requests/refresh-token-cookie.js';

export function useRefreshTokenCookie(): Plugin {
  return {
    onResponse({ request, response }) {
      for (const cookie of queuedCookies(request)) response.headers.append('set-cookie', cookie);
    },
  };
}
