/**
 * Cookie mode: moves the refresh-token cookies resolvers queued for a request onto its response, as
 * `answer-rules.ts`'s `answerCookies` (shared with the trusted documents' fast path) allows: never on
 * an answer that carries an error.
 */
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { answerCookies } from '../answer-rules.js';

export function useRefreshTokenCookie(): Plugin {
  const failed = new WeakSet<Request>();
  return {
    onResultProcess({ request, result }) {
      if (isAsyncIterable(result)) return;
      if ((Array.isArray(result) ? result : [result]).some((single) => single.errors?.length)) failed.add(request);
    },
    onResponse({ request, response }) {
      for (const cookie of answerCookies(request, failed.has(request), response.status))
        response.headers.append('set-cookie', cookie);
    },
  };
}
