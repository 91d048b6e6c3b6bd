/**
 * OpenTelemetry tracing, loaded only when an OTLP endpoint is configured: `http/listener.ts` imports
 * this module dynamically, so with tracing off no OpenTelemetry module is ever loaded and nothing
 * runs on the request path.
 *
 * The server span and the GraphQL parse/validate/execute spans come from Hive's maintained plugin
 * (@graphql-hive/plugin-opentelemetry), which also takes the caller's W3C trace context; the Kibo
 * call gets one CLIENT span of ours, and its `traceparent` goes to Kibo with that span as parent.
 * Every span leaves through `RedactingExporter`, which keeps only attributes known to be safe.
 */
import {
  context,
  diag,
  propagation,
  trace,
  defaultTextMapSetter,
  DiagLogLevel,
  SpanKind,
  SpanStatusCode,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { useOpenTelemetry } from '@graphql-hive/plugin-opentelemetry';
import type { Plugin } from 'graphql-yoga';
import type { EntityCacheObserver } from '../cache/entity-cache.js';
import type { TracingConfig } from '../config.js';
import type { UpstreamCallEvent, UpstreamCallObserver } from '../kibo/client.js';
import { HEALTH_PATH } from '../paths.js';
import { GATEWAY_VERSION } from '../schema/index.js';
import type { Logger, TraceLogFields } from './logger.js';
import { REQUEST_ID_HEADER } from './request-id.js';
import { RedactingExporter } from './span-redaction.js';

export interface Tracing {
  /** First in the Yoga pipeline: server and GraphQL spans, incoming trace context. */
  yogaPlugins: Plugin[];
  /** One span per Kibo call, and the `traceparent` sent with it. */
  kiboObserver: UpstreamCallObserver;
  /** Entity-cache hits and misses, as events on the span active at the lookup. */
  cacheEvents: Required<Pick<EntityCacheObserver, 'hit' | 'miss'>>;
  /** The request's trace and server-span ids for its log line; undefined when it is not traced. */
  traceFields(request: Request): TraceLogFields | undefined;
  /** Ends tracing: flushes the spans not yet exported, then releases the global registrations. */
  shutdown(): Promise<void>;
}

const TRACER_NAME = 'kibo-auth-gateway';
/** How long shutdown waits for the last spans to reach the collector (a healthy one takes milliseconds). */
const SHUTDOWN_FLUSH_MS = 3_000;

/** `promise`'s value, or false once `ms` have passed without one. */
function withinMs(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export async function startTracing(config: TracingConfig, logger: Logger): Promise<Tracing> {
  // The SDK reports failed exports and bad settings through `diag`: into our log, at warn.
  diag.setLogger(
    {
      error: (message) => logger.warn({ component: 'opentelemetry' }, message),
      warn: (message) => logger.warn({ component: 'opentelemetry' }, message),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    DiagLogLevel.WARN,
  );
  const exporter = await createExporter(config);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      ...config.resourceAttributes,
      // The spec: OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES.
      'service.name': config.serviceName,
      'service.version': GATEWAY_VERSION,
    }),
    sampler: createSampler(config),
    spanProcessors: [new BatchSpanProcessor(new RedactingExporter(exporter))],
  });
  // Hive's plugin takes its tracer from the global provider (its `tracer` option is read too late
  // to count), and context travels through the global context manager and propagator: register
  // all three. One traced gateway per process: a second would send its spans to the first.
  if (!context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()))
    throw new Error('OpenTelemetry is already registered in this process: one traced gateway per process');
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  const tracer = provider.getTracer(TRACER_NAME, GATEWAY_VERSION);

  const hivePlugin = useOpenTelemetry({
    traces: {
      tracer,
      spans: {
        // Probes would drown the traces that matter.
        http: ({ request }) => new URL(request.url).pathname !== HEALTH_PATH,
        // Building our context allocates two small objects: a span would cost more than it explains.
        graphqlContextBuilding: false,
      },
    },
    // The plugin's default flushes the global provider on Yoga's disposal; shutdown() does it here.
    flushOnDispose: false,
    // Hive's operation hasher throws on an object literal given to a custom scalar (the inline
    // `_entities(representations: [{ … }])` a router may send), failing the request: tracing must
    // never do that. The operation name and type identify the operation well enough.
    hashOperation: null,
  });

  const serverSpan = (request: Request): Span | undefined => {
    const httpContext = hivePlugin.getHttpContext(request);
    return httpContext && trace.getSpan(httpContext);
  };

  // The request id joins the server span, so a trace can be found from a log line or a header.
  const requestIdOnSpan: Plugin = {
    onResponse({ request }) {
      // The listener settled the id as the request arrived (request-id.ts).
      const id = request.headers.get(REQUEST_ID_HEADER);
      if (id) serverSpan(request)?.setAttribute('http.request.id', id);
    },
  };

  // Kibo is another party: it gets the trace context (traceparent, tracestate), so the trace
  // continues there, and never the caller's baggage — key-value pairs a client or router fills for
  // its own services (user or session ids, flags), which the global propagator would hand on as is.
  const kiboPropagator = new W3CTraceContextPropagator();
  const kiboObserver: UpstreamCallObserver = {
    start({ method, pathTemplate, tenantId }) {
      const span = tracer.startSpan(`${method} ${pathTemplate}`, {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': method,
          'url.template': pathTemplate,
          'kibo.tenant_id': tenantId,
        },
      });
      const headers: Record<string, string> = {};
      kiboPropagator.inject(trace.setSpan(context.active(), span), headers, defaultTextMapSetter);
      return { headers, end: (event) => endKiboSpan(span, event) };
    },
  };

  // The lookup runs inside the resolver's execution, so the active span is the request's own; the
  // tier is all an event carries (never a tenant, key or credential).
  const cacheEvents: Tracing['cacheEvents'] = {
    hit: (tier) => trace.getActiveSpan()?.addEvent('entity_cache.hit', { 'cache.tier': tier }),
    miss: (tier) => trace.getActiveSpan()?.addEvent('entity_cache.miss', { 'cache.tier': tier }),
  };

  return {
    yogaPlugins: [hivePlugin as unknown as Plugin, requestIdOnSpan],
    kiboObserver,
    cacheEvents,
    traceFields(request) {
      const spanContext = serverSpan(request)?.spanContext();
      return spanContext && { trace_id: spanContext.traceId, span_id: spanContext.spanId };
    },
    async shutdown() {
      // A collector that is slow or unreachable loses these spans, but must not hold up the exit: the
      // exporter alone would wait OTEL_EXPORTER_OTLP_TIMEOUT (10 s by default) on top of the drain
      // delay and grace the orchestrator's kill timeout is sized for.
      const flushed = await withinMs(
        provider.shutdown().then(
          () => true,
          () => false,
        ),
        SHUTDOWN_FLUSH_MS,
      );
      if (!flushed)
        logger.warn(
          { component: 'opentelemetry', timeoutMs: SHUTDOWN_FLUSH_MS },
          'tracing: the spans still batched at shutdown did not reach the collector; they are lost',
        );
      trace.disable();
      diag.disable();
      propagation.disable();
      context.disable();
    },
  };
}

function endKiboSpan(span: Span, event: UpstreamCallEvent): void {
  // The outcome class is the metrics' label: OK, or the code the client gets.
  span.setAttribute('kibo.outcome', event.code ?? 'OK');
  span.setAttribute('http.response.body.size', event.responseBytes);
  if (event.status !== undefined) span.setAttribute('http.response.status_code', event.status);
  if (event.kiboErrorCode) span.setAttribute('kibo.error_code', event.kiboErrorCode);
  if (event.correlationId) span.setAttribute('kibo.correlation_id', event.correlationId);
  if (event.code) {
    span.setAttribute('error.type', event.code);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

function createSampler({ sampler, samplerRatio }: TracingConfig): Sampler {
  switch (sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(samplerRatio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(samplerRatio) });
  }
}

/** OTLP over HTTP, in the encoding OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL names; only that one is loaded. */
async function createExporter({ endpoint, protocol }: TracingConfig): Promise<SpanExporter> {
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter({ url: endpoint });
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter({ url: endpoint });
}
