/** Composes this adapter's subgraph with the orders subgraph, with both composition libraries. */
import { readFileSync } from 'node:fs';
import { composeServices as composeWithApollo } from '@apollo/composition';
import { composeServices as composeWithTheGuild } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { ORDERS_SDL } from './orders-subgraph.js';

export const KIBO_SUBGRAPH_SDL = readFileSync(new URL('../../schema/subgraph.graphql', import.meta.url), 'utf8');

export interface SubgraphUrls {
  kibo: string;
  orders: string;
}

const services = (urls: SubgraphUrls) => [
  { name: 'kibo', url: urls.kibo, typeDefs: parse(KIBO_SUBGRAPH_SDL) },
  { name: 'orders', url: urls.orders, typeDefs: parse(ORDERS_SDL) },
];

export function composeApollo(urls: SubgraphUrls) {
  return composeWithApollo(services(urls));
}

export function composeTheGuild(urls: SubgraphUrls) {
  return composeWithTheGuild(services(urls));
}
