/**
 * Answers carry fresh tokens: no browser, proxy or CDN may keep a copy. `no-store` on every
 * GraphQL response (GET queries included) says so; the trusted documents' fast path sends the same
 * `answer-rules.ts` value.
 */
import type { Plugin } from 'graphql-yoga';
import { ANSWER_CACHE_CONTROL } from '../answer-rules.js';
import { GRAPHIQL_ASSETS_PATH } from './use-graphiql-assets.js';

export function useNoStore(): Plugin {
  return {
    onResponse({ request, response }) {
      // GraphiQL's hashed assets are the one exception: code, immutable, and meant to be cached.
      // (The substring test first keeps the URL parse off every other answer.)
      if (request.url.includes(GRAPHIQL_ASSETS_PATH) && new URL(request.url).pathname.startsWith(GRAPHIQL_ASSETS_PATH))
        return;
      response.headers.set('cache-control', ANSWER_CACHE_CONTROL);
    },
  };
}
