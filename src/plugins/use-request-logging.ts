/**
 * What the GraphQL pipeline adds to the request's log line. The line itself is written by the
 * listener when the response closes (`http/request-outcomes.ts`), so it tells what the client really
 * got; the listener cannot see GraphQL parameters or the trace, so this plugin notes, for it: the
 * operation name (capped) and the trace and span ids (when tracing is on). Never headers, variables or
 * bodies. (The correlation ids of the request's Kibo calls are noted by the context factory in
 * `yoga.ts`, which makes the list they fill.)
 */
import type { Plugin } from 'graphql-yoga';
import type { Logger, TraceLogFields } from '../telemetry/logger.js';
import { noteOperationName, noteTrace } from '../telemetry/request-notes.js';

export interface RequestLoggingOptions {
  /** Request lines go out at `warn` and above; below that level the plugin does nothing at all. */
  logger: Logger;
  /** The request's trace and span ids; given only when tracing is on (undefined: no trace fields). */
  traceFields?: ((request: Request) => TraceLogFields | undefined) | undefined;
}

/** The Node request, as the Node adapter hands it to Yoga in the server context. */
const nodeRequestOf = (serverContext: unknown) => (serverContext as { req?: object } | undefined)?.req;

export function useRequestLogging({ logger, traceFields }: RequestLoggingOptions): Plugin {
  if (!logger.isLevelEnabled('warn')) return {};
  return {
    onParams({ params, context }) {
      const nodeRequest = nodeRequestOf(context);
      if (nodeRequest) noteOperationName(nodeRequest, params.operationName);
    },
    ...(traceFields && {
      onResponse({ request, serverContext }) {
        const nodeRequest = nodeRequestOf(serverContext);
        const fields = traceFields(request);
        if (nodeRequest && fields) noteTrace(nodeRequest, fields);
      },
    }),
  };
}
