/**
 * End to end through real federation gateways, in process: Apollo Gateway (under Apollo Server)
 * and Hive Gateway, each serving the supergraph composed from this adapter and the orders
 * subgraph, each configured to propagate Authorization, X-Kibo-Refresh-Token and X-Vol-Tenant.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_HEADERS, startStack, type Stack } from '../support/stack.js';
import { startOrdersSubgraph } from './orders-subgraph.js';
import { composeApollo } from './supergraph.js';

/** The headers a gateway must pass on to this subgraph (README: "Use it in a supergraph"). */
const PROPAGATED_HEADERS = ['authorization', 'x-kibo-refresh-token', 'x-vol-tenant'] as const;

interface RunningGateway {
  url: string;
  stop(): Promise<void>;
}

async function startApolloGateway(supergraphSdl: string): Promise<RunningGateway> {
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<{ headers: Record<string, string | string[] | undefined> }>({
        url,
        willSendRequest({ request: outgoing, context }) {
          for (const name of PROPAGATED_HEADERS) {
            const value = context.headers?.[name];
            if (typeof value === 'string') outgoing.http?.headers.set(name, value);
          }
        },
      }),
  });
  const server = new ApolloServer({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ headers: req.headers }),
  });
  return { url, stop: () => server.stop() };
}

async function startHiveGateway(supergraphSdl: string): Promise<RunningGateway> {
  const runtime = createGatewayRuntime({
    supergraph: supergraphSdl,
    logging: false,
    propagateHeaders: {
      fromClientToSubgraphs: ({ request: incoming }) =>
        Object.fromEntries(PROPAGATED_HEADERS.map((name) => [name, incoming.headers.get(name)])),
    },
  });
  const server: Server = createServer(runtime);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    stop: async () => {
      await runtime.dispose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let kibo: Stack;
let orders: Awaited<ReturnType<typeof startOrdersSubgraph>>;
let supergraphSdl: string;
beforeAll(async () => {
  kibo = await startStack({ env: { LOG_LEVEL: 'silent' } });
  orders = await startOrdersSubgraph();
  const composed = composeApollo({ kibo: kibo.gateway.graphqlUrl, orders: orders.url });
  expect(composed.errors ?? []).toEqual([]);
  supergraphSdl = composed.supergraphSdl!;
});
afterAll(async () => {
  await orders?.close();
  await kibo?.close();
});

describe.each([
  ['Apollo Gateway', startApolloGateway],
  ['Hive Gateway', startHiveGateway],
] as const)('through %s', (_name, start) => {
  let gateway: RunningGateway;
  beforeAll(async () => {
    gateway = await start(supergraphSdl);
  });
  afterAll(() => gateway?.stop());
  beforeEach(() => kibo.resetRecords());

  const post = async (query: string, headers: Record<string, string>) => {
    const response = await request(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    return (await response.body.json()) as {
      data?: any;
      errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
    };
  };

  it('runs switchTenant, with the caller’s credentials and the projection intact', async () => {
    const body = await post(
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            accessToken
            tenant {
              id
              name
              sites {
                id
                name
              }
            }
          }
        }
      `,
      DEMO_HEADERS,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.switchTenant.tenant).toMatchObject({ id: 100002, name: 'Fabrikam Outfitters' });
    expect(kibo.receivedResponseFields()).toEqual(['accessToken,tenant(id,name,sites(id,name))']);
  });

  it('resolves Site.name for the orders subgraph’s references: N references, one Kibo call', async () => {
    const body = await post(
      /* GraphQL */ `
        {
          recentOrders {
            id
            total
            site {
              id
              name
              domain
            }
          }
        }
      `,
      {
        ...DEMO_HEADERS,
        'x-vol-tenant': '100002',
      },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.recentOrders).toEqual([
      {
        id: 'o-1',
        total: 120.5,
        site: { id: 201, name: 'Fabrikam Outfitters US', domain: 's201-t100002.sandbox.mozu.com' },
      },
      {
        id: 'o-2',
        total: 15,
        site: { id: 202, name: 'Fabrikam Outfitters CA', domain: 's202-t100002.sandbox.mozu.com' },
      },
      {
        id: 'o-3',
        total: 99.99,
        site: { id: 203, name: 'Fabrikam Outfitters GB', domain: 's203-t100002.sandbox.mozu.com' },
      },
      {
        id: 'o-4',
        total: 42,
        site: { id: 201, name: 'Fabrikam Outfitters US', domain: 's201-t100002.sandbox.mozu.com' },
      },
      // A site the ticket does not hold: the reference resolves to null, so its fields do.
      { id: 'o-5', total: 7.25, site: expect.objectContaining({ id: 999999 }) },
    ]);
    expect(body.data.recentOrders[4].site.name ?? null).toBeNull();
    expect(kibo.receivedResponseFields()).toEqual([
      'availableTenants(id,sites(domain,id,name)),tenant(id,sites(domain,id,name))',
    ]);
  });

  it('without X-Vol-Tenant the entity fields fail with an error naming the header, and Kibo is not called', async () => {
    const body = await post(
      /* GraphQL */ `
        {
          recentOrders {
            id
            site {
              id
              name
            }
          }
        }
      `,
      DEMO_HEADERS,
    );
    expect(JSON.stringify(body.errors ?? [])).toContain('X-Vol-Tenant');
    expect(body.data?.recentOrders?.[0]?.id).toBe('o-1');
    expect(kibo.received).toHaveLength(0);
  });
});
