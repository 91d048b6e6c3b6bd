/** One log line per request: what was asked and how it went. Never headers, variables or bodies. */
import type { Plugin } from 'graphql-yoga';
import { HEALTH_PATH } from '../paths.js';
import { requestLineLogger, type Logger } from '../telemetry/logger.js';

export interface RequestLoggingOptions {
  /** Lines go out at `info`; below that level the plugin does nothing at all. */
  logger: Logger;
}

interface RequestEntry {
  at: number;
  path: string;
  operationName?: string | undefined;
}

export function useRequestLogging({ logger }: RequestLoggingOptions): Plugin {
  if (!logger.isLevelEnabled('info')) return {};
  const lines = requestLineLogger(logger);
  const started = new WeakMap<Request, RequestEntry>();
  return {
    onRequest({ request }) {
      const path = pathOf(request.url);
      if (path !== HEALTH_PATH) started.set(request, { at: performance.now(), path });
    },
    onParams({ request, params }) {
      const entry = started.get(request);
      if (entry) entry.operationName = params.operationName ?? undefined;
    },
    onResponse({ request, response }) {
      const entry = started.get(request);
      if (!entry) return;
      lines.info(
        {
          method: request.method,
          path: entry.path,
          status: response.status,
          operationName: entry.operationName,
          durationMs: Math.round((performance.now() - entry.at) * 100) / 100,
        },
        'request',
      );
    },
  };
}

/**
 * The path of an absolute request URL, by slicing rather than parsing: a `new URL()` per request
 * showed in profiles, and the server hands over URLs it built itself (`scheme://host/path?query`).
 */
export function pathOf(url: string): string {
  const authority = url.indexOf('//');
  const start = url.indexOf('/', authority === -1 ? 0 : authority + 2);
  if (start === -1) return '/';
  const query = url.indexOf('?', start);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}
