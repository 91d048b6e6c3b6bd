/**
 * Names the operation in the request's log line. The line itself is written by the listener when the
 * response closes (`http/request-outcomes.ts`), so it tells what the client really got; the listener
 * cannot see GraphQL parameters, so this plugin notes the operation name (capped) for it.
 */
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../telemetry/logger.js';
import { noteOperationName } from '../telemetry/request-notes.js';

export interface RequestLoggingOptions {
  /** Request lines go out at `info` and above; below that level the plugin does nothing at all. */
  logger: Logger;
}

export function useRequestLogging({ logger }: RequestLoggingOptions): Plugin {
  if (!logger.isLevelEnabled('warn')) return {};
  return {
    onParams({ params, context }) {
      // The Node request, as the Node adapter hands it to Yoga in the server context.
      const nodeRequest = (context as { req?: object }).req;
      if (nodeRequest) noteOperationName(nodeRequest, params.operationName);
    },
  };
}
