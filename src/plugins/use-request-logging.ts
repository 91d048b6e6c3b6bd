/** One log line per request: what was asked and how it went. Never headers, variables or bodies. */
import type { Plugin } from 'graphql-yoga';
import { HEALTH_PATH } from '../paths.js';
import type { Logger } from '../telemetry/logger.js';

export interface RequestLoggingOptions {
  /** Lines go out at `info`; below that level the plugin does nothing at all. */
  logger: Logger;
}

export function useRequestLogging({ logger }: RequestLoggingOptions): Plugin {
  if (!logger.isLevelEnabled('info')) return {};
  const started = new WeakMap<Request, { at: number; operationName?: string | undefined }>();
  return {
    onRequest({ request }) {
      started.set(request, { at: performance.now() });
    },
    onParams({ request, params }) {
      const entry = started.get(request);
      if (entry) entry.operationName = params.operationName ?? undefined;
    },
    onResponse({ request, response }) {
      const entry = started.get(request);
      const path = new URL(request.url).pathname;
      if (path === HEALTH_PATH) return;
      logger.info(
        {
          method: request.method,
          path,
          status: response.status,
          operationName: entry?.operationName,
          durationMs: entry ? Math.round((performance.now() - entry.at) * 100) / 100 : undefined,
        },
        'request',
      );
    },
  };
}
