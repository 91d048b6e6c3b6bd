/**
 * Requests a browser would send cross-site without a CORS preflight (forms, `text/plain`, GET) must
 * carry a custom header, which a cross-site page cannot add without the preflight CORS refuses. The
 * rule is `answer-rules.ts`'s, shared with the trusted documents' fast path; the header names are the
 * ones the ecosystem's clients already send (Yoga's own, and Apollo's).
 */
import type { Plugin } from 'graphql-yoga';
import { csrfRefusal, passesCsrfCheck } from '../answer-rules.js';

export function useCsrfPrevention(): Plugin {
  return {
    onRequestParse({ request }) {
      if (!passesCsrfCheck((name) => request.headers.get(name))) throw csrfRefusal();
    },
  };
}
