/** Prometheus metrics: what they count, and that METRICS=false removes the endpoint. */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectionCacheSize } from '../../src/projection/response-fields.js';
import { startStack, withStack, type Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'silent' } });
});
afterAll(() => stack.close());

async function metricsOf(target: Stack): Promise<{ status: number; text: string }> {
  const response = await request(`${target.gateway.url}/metrics`);
  return { status: response.statusCode, text: await response.body.text() };
}

const sample = (text: string, series: string) =>
  Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

describe('/metrics', () => {
  it('shows the projection cache’s size, read when scraped', async () => {
    await stack.graphql('mutation { switchTenant(tenantId: 100002) { createdOn } }');
    const { text } = await metricsOf(stack);
    expect(text).toContain('# TYPE gateway_projection_cache_entries gauge');
    // The cache is one per process, shared by every stack the tests start here.
    expect(sample(text, 'gateway_projection_cache_entries')).toBe(projectionCacheSize());
    expect(projectionCacheSize()).toBeGreaterThan(0);
  });

  it('counts Kibo calls by outcome, their bytes, and responses by status class', async () => {
    const before = (await metricsOf(stack)).text;
    await stack.graphql(/* GraphQL */ `
      mutation {
        switchTenant(tenantId: 100002) {
          tenant {
            id
          }
        }
      }
    `);
    await stack.graphql(/* GraphQL */ `
      mutation {
        switchTenant(tenantId: 999999) {
          tenant {
            id
          }
        }
      }
    `);
    const { status, text } = await metricsOf(stack);
    expect(status).toBe(200);
    expect(
      sample(text, 'kibo_upstream_calls_total{outcome="OK"}') -
        sample(before, 'kibo_upstream_calls_total{outcome="OK"}'),
    ).toBe(1);
    expect(
      sample(text, 'kibo_upstream_calls_total{outcome="FORBIDDEN"}') -
        sample(before, 'kibo_upstream_calls_total{outcome="FORBIDDEN"}'),
    ).toBe(1);
    expect(sample(text, 'kibo_upstream_response_bytes_total')).toBeGreaterThan(
      sample(before, 'kibo_upstream_response_bytes_total'),
    );
    expect(sample(text, 'kibo_upstream_call_duration_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'gateway_http_responses_total{status="2xx"}')).toBeGreaterThanOrEqual(2);
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('is gone with METRICS=false', async () => {
    await withStack(
      { env: { METRICS: 'false', LOG_LEVEL: 'silent' }, sharedEmulator: stack.emulator },
      async (quiet) => {
        const { status, text } = await metricsOf(quiet);
        expect(status).toBe(404);
        expect(text).not.toContain('kibo_upstream_calls_total');
      },
    );
  });
});
