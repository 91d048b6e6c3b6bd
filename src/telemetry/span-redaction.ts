/**
 * The last door before spans leave the process. Instrumentation we do not own records more than a
 * gateway carrying tokens may export — the GraphQL document (a refresh token can be an inline
 * argument), the full URL (a GET carries variables in its query string), exception messages and
 * stacks (GraphQL echoes bad input values in them). So attributes are kept by allowlist: anything
 * not listed here is dropped, including whatever a future plugin version starts recording.
 */
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { Attributes } from '@opentelemetry/api';

/** Attributes whose values are closed sets, numbers, ids or names we set — never a caller's secret. */
const SAFE_ATTRIBUTES = new Set([
  // The server span (Hive's plugin, HTTP semantic conventions as it writes them).
  'http.method',
  'http.route',
  'http.scheme',
  'http.host',
  'net.host.name',
  'http.status_code',
  'http.user_agent',
  'http.client_ip',
  'http.request.id',
  'hive.request',
  'hive.client.name',
  'hive.client.version',
  // The GraphQL phases.
  'hive.graphql',
  'graphql.operation.name',
  'graphql.operation.type',
  'hive.graphql.operation.hash',
  'hive.graphql.error.count',
  'hive.graphql.error.codes',
  // The Kibo call (ours).
  'http.request.method',
  'url.template',
  'http.response.status_code',
  'http.response.body.size',
  'error.type',
  'kibo.tenant_id',
  'kibo.outcome',
  'kibo.error_code',
  'kibo.correlation_id',
  // Entity-cache events: the tier only.
  'cache.tier',
  // Exception events keep their type, never the message or stack.
  'exception.type',
]);

/** Kept with its query string cut off: the path is the route, the query may hold variables. */
const URL_ATTRIBUTES = new Set(['http.url', 'url.full']);

export class RedactingExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans.map(redactSpan), resultCallback);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

export function redactSpan(span: ReadableSpan): ReadableSpan {
  const { attributes, dropped } = safeAttributes(span.attributes);
  const events = span.events.map((event): TimedEvent => {
    const kept = safeAttributes(event.attributes ?? {});
    return { name: event.name, time: event.time, attributes: kept.attributes, droppedAttributesCount: kept.dropped };
  });
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    // A status message is free text (Hive's plugin puts error messages there): the code says enough.
    status: { code: span.status.code },
    attributes,
    links: span.links.map((link) => ({ context: link.context })),
    events,
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount + dropped,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

function safeAttributes(attributes: Attributes): { attributes: Attributes; dropped: number } {
  const kept: Attributes = {};
  let dropped = 0;
  for (const [key, value] of Object.entries(attributes)) {
    if (SAFE_ATTRIBUTES.has(key)) kept[key] = value;
    else if (URL_ATTRIBUTES.has(key) && typeof value === 'string') kept[key] = value.split('?')[0];
    else dropped++;
  }
  return { attributes: kept, dropped };
}
