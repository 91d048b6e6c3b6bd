/**
 * One trace from the router to Kibo. Hive Gateway, with its OpenTelemetry plugin, routes to this
 * subgraph (started as `npm start` does, in its own process, with tracing on) and to the orders
 * subgraph; both export over OTLP/HTTP to one test receiver. The trace must run unbroken: router
 * spans → our server span → the GraphQL spans → the Kibo span → the traceparent Kibo received.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useOpenTelemetry } from '@graphql-hive/plugin-opentelemetry';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { startMain } from '../support/main-process.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { DEMO_HEADERS } from '../support/stack.js';
import { startOrdersSubgraph } from './orders-subgraph.js';
import { composeApollo } from './supergraph.js';

const PROPAGATED_HEADERS = ['authorization', 'x-kibo-refresh-token', 'x-vol-tenant'] as const;
const ROUTER_SERVICE = 'hive-gateway-under-test';
const SUBGRAPH_SERVICE = 'kibo-subgraph-under-test';
const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

let receiver: OtlpReceiver;
let emulator: RunningEmulator;
let orders: Awaited<ReturnType<typeof startOrdersSubgraph>>;
const children: ChildProcess[] = [];
let provider: BasicTracerProvider;
let router: { url: string; stop(): Promise<void> };

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  emulator = await startEmulator();
  orders = await startOrdersSubgraph();
  const subgraph = await startMain(
    {
      KIBO_BASE_URL: emulator.url,
      LOG_LEVEL: 'info',
      GRAPHIQL: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: SUBGRAPH_SERVICE,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
    children,
    // Tracing on loads the SDK and Hive's plugin (with its runtime) under tsx: slow on a busy machine.
    45_000,
  );
  const composed = composeApollo({ kibo: `${subgraph.url}/graphql`, orders: orders.url });
  expect(composed.errors ?? []).toEqual([]);

  // The router's own OpenTelemetry setup, as a Hive Gateway deployment would have it.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': ROUTER_SERVICE }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${receiver.url}/v1/traces` }), { scheduledDelayMillis: 50 }),
    ],
  });
  trace.setGlobalTracerProvider(provider);

  const runtime = createGatewayRuntime({
    supergraph: composed.supergraphSdl!,
    logging: false,
    propagateHeaders: {
      fromClientToSubgraphs: ({ request: incoming }) =>
        Object.fromEntries(PROPAGATED_HEADERS.map((name) => [name, incoming.headers.get(name)])),
    },
    plugins: (ctx) => [useOpenTelemetry({ ...ctx, traces: true })],
  });
  const server: Server = createServer(runtime);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  router = {
    url: `http://127.0.0.1:${port}/graphql`,
    stop: async () => {
      await runtime.dispose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}, 60_000);

afterAll(async () => {
  await router?.stop();
  await provider?.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
  for (const child of children) child.kill('SIGTERM');
  await orders?.close();
  await emulator?.close();
  await receiver?.close();
});

describe('one trace from the router to Kibo', () => {
  it('links the router’s spans, our server, GraphQL and Kibo spans, and the traceparent Kibo received', async () => {
    const response = await request(router.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
      body: JSON.stringify({
        query: /* GraphQL */ `
          mutation {
            switchTenant(tenantId: 100002) {
              tenant {
                id
                name
              }
            }
          }
        `,
      }),
    });
    const body = (await response.body.json()) as { data?: { switchTenant: { tenant: { id: number } } } };
    expect(body.data?.switchTenant.tenant.id).toBe(100002);

    const kiboSpan = await receiver.waitFor(
      (span) => span.service === SUBGRAPH_SERVICE && span.kind === SPAN_KIND_CLIENT,
      15_000,
    );
    const { traceId } = kiboSpan;
    // The router exports on its own schedule; wait until its request span is in.
    await receiver.waitFor(
      (span) => span.traceId === traceId && span.service === ROUTER_SERVICE && span.kind === SPAN_KIND_SERVER,
      15_000,
    );
    const spans = receiver.spans.filter((span) => span.traceId === traceId);
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const ancestry = (span: ReceivedSpan): ReceivedSpan[] => {
      const chain: ReceivedSpan[] = [];
      for (let at = byId.get(span.parentSpanId); at; at = byId.get(at.parentSpanId)) chain.push(at);
      return chain;
    };

    const ours = spans.filter((span) => span.service === SUBGRAPH_SERVICE);
    const ourServer = ours.find((span) => span.kind === SPAN_KIND_SERVER)!;
    const execute = ours.find((span) => span.name === 'graphql.execute')!;
    expect(ourServer, 'our server span').toBeDefined();
    expect(kiboSpan.parentSpanId).toBe(execute.spanId);
    for (const phase of ['graphql.parse', 'graphql.validate', 'graphql.execute']) {
      const span = ours.find((candidate) => candidate.name === phase);
      expect(span && ancestry(span).includes(ourServer), phase).toBe(true);
    }

    // Our server span's parent is a router span, and the router's request span is the trace's root.
    const routerParent = byId.get(ourServer.parentSpanId)!;
    expect(routerParent?.service).toBe(ROUTER_SERVICE);
    const chain = ancestry(kiboSpan);
    const root = chain.at(-1)!;
    expect(root.service).toBe(ROUTER_SERVICE);
    expect(root.kind).toBe(SPAN_KIND_SERVER);
    expect(root.parentSpanId).toBe('');
    expect(chain).toContain(ourServer);

    // Kibo received the trace with our Kibo span as parent.
    const received = emulator.received.find((entry) => entry.method === 'PUT')!;
    expect(received.traceparent).toBe(`00-${traceId}-${kiboSpan.spanId}-01`);
    expect(kiboSpan.attributes['kibo.correlation_id']).toBe(received.correlationId);
  }, 40_000);
});
