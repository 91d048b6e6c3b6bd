/**
 * Cookie mode: moves the refresh-token cookies resolvers queued for a request onto its response —
 * unless the answer carries an error. A client that reads an error may retry or give up, and must not
 * have its cookie replaced behind its back by a half-successful operation.
 */
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { queuedCookies } from '../requests/refresh-token-cookie.js';

export function useRefreshTokenCookie(): Plugin {
  const failed = new WeakSet<Request>();
  return {
    onResultProcess({ request, result }) {
      if (isAsyncIterable(result)) return;
      if ((Array.isArray(result) ? result : [result]).some((single) => single.errors?.length)) failed.add(request);
    },
    onResponse({ request, response }) {
      if (failed.has(request) || response.status >= 400) return;
      for (const cookie of queuedCookies(request)) response.headers.append('set-cookie', cookie);
    },
  };
}
