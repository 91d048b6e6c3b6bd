/**
 * CORS for the origins in `CORS_ORIGINS`: a preflight (OPTIONS) is answered 204 at once, and every
 * answer to a listed origin carries the headers `answer-rules.ts` gives it — the same function the
 * trusted documents' fast path calls. Installed only when origins are listed; without it a browser
 * allows same-origin use only.
 */
import type { Plugin } from 'graphql-yoga';
import { corsHeaders } from '../answer-rules.js';

export interface CorsOptions {
  /** `CORS_ORIGINS`: exact origins (scheme, host, port) allowed to call with credentials. */
  origins: readonly string[];
}

export function useCors({ origins }: CorsOptions): Plugin[] {
  if (!origins.length) return [];
  return [
    {
      onRequest({ request, fetchAPI, endResponse }) {
        // Safari needs a Content-Length on a 204, or it waits for a body.
        if (request.method.toUpperCase() === 'OPTIONS')
          endResponse(new fetchAPI.Response(null, { status: 204, headers: { 'content-length': '0' } }));
      },
      onResponse({ request, response }) {
        const headers = corsHeaders(
          origins,
          request.headers.get('origin'),
          request.headers.get('access-control-request-headers'),
        );
        for (const name in headers) response.headers.set(name, headers[name]!);
      },
    },
  ];
}
