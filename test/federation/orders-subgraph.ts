/**
 * A second subgraph for the federation tests: "orders", owned by another team. It extends `Site`
 * with its orders and hands back `Site` references of its own, which this adapter must resolve.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { FEDERATION_LINK } from '../../src/schema/index.js';

export const ORDERS_SDL = `
  extend schema @link(url: "${FEDERATION_LINK}", import: ["@key"])

  "An order placed on one of a tenant's sites."
  type Order @key(fields: "id") {
    id: ID!
    total: Float!
    "The site the order was placed on, resolved by the Kibo subgraph."
    site: Site
    "The tenant the order belongs to (its site's), resolved by the Kibo subgraph."
    tenant: Tenant
  }

  type Tenant @key(fields: "id", resolvable: false) {
    id: Int!
  }

  type Site @key(fields: "id") {
    id: Int!
    "Orders placed on this site."
    orders: [Order!]!
  }

  type Query {
    "The latest orders across sites."
    recentOrders: [Order!]!
  }
`;

/** Sites 201–205 belong to demo tenant 100002; 301 to 100003; 999999 to nobody. */
export function tenantOfSite(siteId: number): number | null {
  // Demo sites are numbered <tenant ordinal> * 100 + 1 … 5 (src/emulator/demo-data.ts).
  const ordinal = Math.floor(siteId / 100);
  return siteId % 100 >= 1 && siteId % 100 <= 5 && ordinal >= 1 && ordinal <= 50 ? 100_000 + ordinal : null;
}

export const ORDERS = [
  { id: 'o-1', total: 120.5, siteId: 201 },
  { id: 'o-2', total: 15, siteId: 202 },
  { id: 'o-3', total: 99.99, siteId: 203 },
  { id: 'o-4', total: 42, siteId: 201 },
  { id: 'o-5', total: 7.25, siteId: 999999 },
];

export function ordersSchema() {
  return buildSubgraphSchema({
    typeDefs: parse(ORDERS_SDL),
    resolvers: {
      Query: { recentOrders: () => ORDERS },
      Order: {
        site: (order: { siteId: number }) => ({ __typename: 'Site', id: order.siteId }),
        tenant: (order: { siteId: number }) => {
          const id = tenantOfSite(order.siteId);
          return id === null ? null : { __typename: 'Tenant', id };
        },
        __resolveReference: (reference: { id: string }) => ORDERS.find((order) => order.id === reference.id) ?? null,
      },
      Site: {
        orders: (site: { id: number }) => ORDERS.filter((order) => order.siteId === site.id),
      },
    } as never,
  });
}

export async function startOrdersSubgraph(): Promise<{ url: string; close(): Promise<void> }> {
  const yoga = createYoga({ schema: ordersSchema(), graphqlEndpoint: '/graphql', logging: false, graphiql: false });
  const server: Server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
