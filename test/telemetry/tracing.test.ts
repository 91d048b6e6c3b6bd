/**
 * Tracing on, against a real OTLP/HTTP receiver: the caller's trace continues through the server,
 * GraphQL and Kibo spans, Kibo receives a traceparent whose parent is the Kibo span, logs carry the
 * trace, and shutdown flushes what is still batched. OpenTelemetry registers itself process-wide,
 * so the traced stacks of this file run one after another.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MANIFEST_URL } from '../../src/trusted-documents/manifest.js';
import { DEMO_HEADERS, startStack, type Stack } from '../support/stack.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';

const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;
const SWITCH_TENANT = /* GraphQL */ `
  mutation SwitchTenant($t: Int!) {
    switchTenant(tenantId: $t) {
      accessToken
      tenant {
        id
      }
    }
  }
`;

let receiver: OtlpReceiver;
const batchDelay = process.env.OTEL_BSP_SCHEDULE_DELAY;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await receiver?.close();
});
afterEach(() => {
  if (batchDelay === undefined) delete process.env.OTEL_BSP_SCHEDULE_DELAY;
  else process.env.OTEL_BSP_SCHEDULE_DELAY = batchDelay;
});

function tracedEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', ...extra };
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const inTrace = (traceId: string) => receiver.spans.filter((span) => span.traceId === traceId);
const logLines = (stack: Stack) => stack.logs.map((line) => JSON.parse(line) as Record<string, unknown>);

describe('a traced gateway', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Short batches so spans arrive while the test waits (the SDK reads OTEL_BSP_* itself).
    process.env.OTEL_BSP_SCHEDULE_DELAY = '20';
    stack = await startStack({
      env: tracedEnv({
        LOG_LEVEL: 'info',
        OTEL_SERVICE_NAME: 'kibo-under-test',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test%20lab,service.name=loses-to-OTEL_SERVICE_NAME',
      }),
    });
  });
  afterAll(() => stack?.close());

  it('continues the caller’s trace through server, GraphQL and Kibo spans, and hands it on to Kibo', async () => {
    stack.resetRecords();
    const traceId = hex(16);
    const callerSpanId = hex(8);
    const response = await stack.graphql(SWITCH_TENANT, {
      variables: { t: 100002 },
      headers: { ...DEMO_HEADERS, traceparent: `00-${traceId}-${callerSpanId}-01`, 'x-request-id': 'req-trace-1' },
    });
    expect(response.body.errors).toBeUndefined();
    expect(response.headers['x-request-id']).toBe('req-trace-1');

    const kiboSpan = await receiver.waitFor((span) => span.traceId === traceId && span.kind === SPAN_KIND.CLIENT);
    const server = await receiver.waitFor((span) => span.traceId === traceId && span.kind === SPAN_KIND.SERVER);
    const spans = inTrace(traceId);
    const named = (name: string) => spans.find((span) => span.name.startsWith(name));

    expect(server.parentSpanId).toBe(callerSpanId);
    expect(server.service).toBe('kibo-under-test');
    expect(server.attributes).toMatchObject({
      'http.method': 'POST',
      'http.route': '/graphql',
      'http.status_code': 200,
      'http.request.id': 'req-trace-1',
    });
    const operation = named('graphql.operation')!;
    expect(operation.parentSpanId).toBe(server.spanId);
    expect(operation.attributes).toMatchObject({
      'graphql.operation.name': 'SwitchTenant',
      'graphql.operation.type': 'mutation',
    });
    for (const phase of ['graphql.parse', 'graphql.validate', 'graphql.execute']) {
      expect(named(phase)?.parentSpanId, phase).toBe(operation.spanId);
    }
    expect(kiboSpan.parentSpanId).toBe(named('graphql.execute')!.spanId);

    const received = stack.emulator.received.find((r) => r.method === 'PUT')!;
    expect(kiboSpan.name).toBe('PUT /api/platform/adminuser/authtickets/tenants');
    expect(kiboSpan.attributes).toEqual({
      'http.request.method': 'PUT',
      'url.template': '/api/platform/adminuser/authtickets/tenants',
      'kibo.tenant_id': 100002,
      'http.response.status_code': 200,
      'http.response.body.size': expect.any(Number),
      'kibo.outcome': 'OK',
      'kibo.correlation_id': received.correlationId,
    });
    expect(kiboSpan.attributes['http.response.body.size']).toBe(stack.upstreamCalls[0]!.responseBytes);
    expect(stack.upstreamCalls[0]!.responseBytes).toBeGreaterThan(0);
    expect(kiboSpan.statusCode).not.toBe(2);
    // Kibo sees the trace continue, with the Kibo span as its parent.
    expect(received.traceparent).toBe(`00-${traceId}-${kiboSpan.spanId}-01`);

    const line = logLines(stack).find((entry) => entry.requestId === 'req-trace-1')!;
    expect(line).toMatchObject({
      msg: 'request',
      trace_id: traceId,
      span_id: server.spanId,
      kiboCorrelationId: received.correlationId,
      status: 200,
    });
  });

  it('hands Kibo the trace context but never the caller’s baggage', async () => {
    stack.resetRecords();
    const traceId = hex(16);
    const response = await stack.graphql(SWITCH_TENANT, {
      variables: { t: 100002 },
      headers: {
        ...DEMO_HEADERS,
        traceparent: `00-${traceId}-${hex(8)}-01`,
        tracestate: 'router=abc',
        baggage: 'session.id=baggage-canary-7f3a,user.id=alice',
      },
    });
    expect(response.body.errors).toBeUndefined();
    const received = stack.emulator.received.find((r) => r.method === 'PUT')!;
    expect(received.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(received.baggage).toBeNull();
  });

  it('marks a Kibo refusal: error status, Kibo’s code, the outcome class, the correlation id', async () => {
    stack.resetRecords();
    const traceId = hex(16);
    const response = await stack.graphql(SWITCH_TENANT, {
      variables: { t: 999999 },
      headers: { ...DEMO_HEADERS, traceparent: `00-${traceId}-${hex(8)}-01` },
    });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const received = stack.emulator.received.find((r) => r.method === 'PUT')!;
    const kiboSpan = await receiver.waitFor((span) => span.traceId === traceId && span.kind === SPAN_KIND.CLIENT);
    expect(kiboSpan.statusCode).toBe(2);
    expect(kiboSpan.attributes).toMatchObject({
      'http.response.status_code': 403,
      'kibo.error_code': 'TENANT_ACCESS_DENIED',
      'kibo.outcome': 'FORBIDDEN',
      'error.type': 'FORBIDDEN',
      'kibo.correlation_id': received.correlationId,
    });
    const execute = await receiver.waitFor((span) => span.traceId === traceId && span.name === 'graphql.execute');
    expect(execute.attributes['hive.graphql.error.codes']).toEqual(['FORBIDDEN']);
  });

  it('starts a trace of its own when the caller sends none, sampled by the default parent-based sampler', async () => {
    const response = await stack.graphql(SWITCH_TENANT, { variables: { t: 100003 } });
    const requestId = String(response.headers['x-request-id']);
    const server = await receiver.waitFor(
      (span) => span.kind === SPAN_KIND.SERVER && span.attributes['http.request.id'] === requestId,
    );
    expect(server.parentSpanId).toBe('');
    expect(inTrace(server.traceId).some((span) => span.kind === SPAN_KIND.CLIENT)).toBe(true);
  });

  it('keeps OTEL_RESOURCE_ATTRIBUTES, percent-decoded, with OTEL_SERVICE_NAME winning over its service.name', async () => {
    const json = receiver.payloads.find((payload) => payload.contentType.startsWith('application/json'))!;
    const resource = JSON.parse(json.body.toString()).resourceSpans[0].resource.attributes as Array<{
      key: string;
      value: { stringValue?: string };
    }>;
    const value = (key: string) => resource.find((entry) => entry.key === key)?.value.stringValue;
    expect(value('deployment.environment')).toBe('test lab');
    expect(value('service.name')).toBe('kibo-under-test');
  });
});

describe('the entity cache in a trace', () => {
  it('puts a miss, then a hit, as events on the request’s spans (the tier only)', async () => {
    process.env.OTEL_BSP_SCHEDULE_DELAY = '20';
    const stack = await startStack({ env: tracedEnv({ ENTITY_CACHE: 'on', OTEL_SERVICE_NAME: 'kibo-cache-events' }) });
    const entities = /* GraphQL */ `
      query Sites($r: [_Any!]!) {
        _entities(representations: $r) {
          ... on Site {
            id
            name
          }
        }
      }
    `;
    const traceIds = [hex(16), hex(16)];
    try {
      for (const traceId of traceIds) {
        const response = await stack.graphql(entities, {
          variables: { r: [{ __typename: 'Site', id: 201 }] },
          headers: { ...DEMO_HEADERS, 'x-vol-tenant': '100002', traceparent: `00-${traceId}-${hex(8)}-01` },
        });
        expect(response.body.errors).toBeUndefined();
      }
    } finally {
      await stack.close();
    }
    const eventsOf = (traceId: string) =>
      inTrace(traceId).flatMap((span) => span.events.map((event) => ({ name: event.name, ...event.attributes })));
    expect(eventsOf(traceIds[0]!)).toContainEqual({ name: 'entity_cache.miss', 'cache.tier': 'memory' });
    expect(eventsOf(traceIds[0]!).map((event) => event.name)).not.toContain('entity_cache.hit');
    expect(eventsOf(traceIds[1]!)).toContainEqual({ name: 'entity_cache.hit', 'cache.tier': 'memory' });
    // The second answer came from the cache: its trace has no Kibo span.
    expect(inTrace(traceIds[1]!).filter((span) => span.kind === SPAN_KIND.CLIENT)).toEqual([]);
  });
});

describe('trusted documents in a trace', () => {
  it('a persisted request is served through Yoga, so it has its server and GraphQL spans', async () => {
    process.env.OTEL_BSP_SCHEDULE_DELAY = '20';
    const manifest = JSON.parse(readFileSync(DEFAULT_MANIFEST_URL, 'utf8')) as Record<string, string>;
    const [documentId] = Object.entries(manifest).find(([, text]) => text.includes(' SwitchTenantTokens('))!;
    const stack = await startStack({
      env: tracedEnv({ TRUSTED_DOCUMENTS: 'allow', OTEL_SERVICE_NAME: 'kibo-trusted-traced' }),
    });
    const traceId = hex(16);
    try {
      const response = await request(stack.gateway.graphqlUrl, {
        method: 'POST',
        headers: { ...DEMO_HEADERS, 'content-type': 'application/json', traceparent: `00-${traceId}-${hex(8)}-01` },
        body: JSON.stringify({ documentId, variables: { tenantId: 100002 } }),
      });
      const body = (await response.body.json()) as { data?: { switchTenant: { tenant: { id: number } } } };
      expect(body.data?.switchTenant.tenant.id).toBe(100002);
    } finally {
      await stack.close();
    }
    const kinds = inTrace(traceId).map((span) => span.kind);
    expect(kinds).toContain(SPAN_KIND.SERVER);
    expect(kinds).toContain(SPAN_KIND.CLIENT);
    expect(inTrace(traceId).map((span) => span.name)).toContain('graphql.execute');
  });
});

describe('sampling', () => {
  it('OTEL_TRACES_SAMPLER=always_off exports no request span, yet Kibo still gets the trace context', async () => {
    process.env.OTEL_BSP_SCHEDULE_DELAY = '20';
    const stack = await startStack({ env: tracedEnv({ OTEL_TRACES_SAMPLER: 'always_off' }) });
    try {
      const traceId = hex(16);
      await stack.graphql(SWITCH_TENANT, {
        variables: { t: 100002 },
        headers: { ...DEMO_HEADERS, traceparent: `00-${traceId}-${hex(8)}-01` },
      });
      const received = stack.emulator.received.find((r) => r.method === 'PUT')!;
      // Unsampled (flag 00): the context still travels so downstream can correlate.
      expect(received.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    } finally {
      await stack.close();
    }
    expect(
      receiver.spans.filter((span) => span.service === 'kibo-auth-gateway' && span.kind !== SPAN_KIND.INTERNAL),
    ).toEqual([]);
  });
});

describe('shutdown', () => {
  it('flushes the spans still waiting in the batch', async () => {
    // A batch that would not leave for a minute on its own.
    process.env.OTEL_BSP_SCHEDULE_DELAY = '60000';
    const stack = await startStack({ env: tracedEnv() });
    const traceId = hex(16);
    await stack.graphql(SWITCH_TENANT, {
      variables: { t: 100002 },
      headers: { ...DEMO_HEADERS, traceparent: `00-${traceId}-${hex(8)}-01` },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(inTrace(traceId)).toEqual([]);
    await stack.close();
    expect(inTrace(traceId).map((span) => span.kind)).toContain(SPAN_KIND.CLIENT);
  });
});

describe('a collector that never answers', () => {
  let silent: Server;
  let url: string;
  beforeAll(async () => {
    // Takes the export request and never answers it, as a collector that is stuck or overloaded does.
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('holds shutdown up for at most the flush bound, and says the spans are lost', async () => {
    process.env.OTEL_BSP_SCHEDULE_DELAY = '60000';
    const stack = await startStack({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', LOG_LEVEL: 'info' },
    });
    await stack.graphql(SWITCH_TENANT, { variables: { t: 100002 }, headers: DEMO_HEADERS });
    const started = performance.now();
    await stack.close();
    // The exporter's own timeout is 10 s; the flush bound is 3 s.
    expect(performance.now() - started).toBeLessThan(6_000);
    expect(logLines(stack).some((line) => String(line['msg']).includes('did not reach the collector'))).toBe(true);
  }, 20_000);
});

describe('OTLP encodings', () => {
  it('sends protobuf by default (the spec’s http/protobuf), with the trace in it', async () => {
    const stack = await startStack({ env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/custom/traces` } });
    const traceId = hex(16);
    try {
      await stack.graphql(SWITCH_TENANT, {
        variables: { t: 100002 },
        headers: { ...DEMO_HEADERS, traceparent: `00-${traceId}-${hex(8)}-01` },
      });
    } finally {
      await stack.close();
    }
    const protobuf = receiver.payloads.filter((payload) => payload.contentType === 'application/x-protobuf');
    expect(protobuf.length).toBeGreaterThan(0);
    // The signal-specific endpoint is used as given, and the trace id travels as its 16 raw bytes.
    expect(protobuf.every((payload) => payload.path === '/custom/traces')).toBe(true);
    expect(protobuf.some((payload) => payload.body.includes(Buffer.from(traceId, 'hex')))).toBe(true);
  });
});
