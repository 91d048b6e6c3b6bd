/**
 * Requests a browser would send cross-site without a CORS preflight (forms, `text/plain`, GET) must
 * carry a custom header, which a cross-site page cannot add without the preflight CORS refuses.
 * Yoga's own plugin, with the header names the ecosystem's clients already send.
 */
import { useCSRFPrevention as yogaCsrfPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';

/** Either header proves a preflight happened: Yoga's own, and the one Apollo clients send. */
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'apollo-require-preflight'];

export function useCsrfPrevention(): Plugin {
  return yogaCsrfPrevention({ requestHeaders: CSRF_HEADERS });
}
