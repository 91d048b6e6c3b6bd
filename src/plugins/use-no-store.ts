/**
 * Answers carry fresh tokens: no browser, proxy or CDN may keep a copy. `no-store` on every
 * GraphQL response (GET queries included) says so.
 */
import type { Plugin } from 'graphql-yoga';

export function useNoStore(): Plugin {
  return {
    onResponse({ response }) {
      response.headers.set('cache-control', 'no-store');
    },
  };
}
