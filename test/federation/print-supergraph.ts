/**
 * `npm run supergraph`: prints the supergraph composed from this subgraph and the example orders
 * subgraph (test/federation/orders-subgraph.ts), for people wiring the adapter into their own.
 * KIBO_SUBGRAPH_URL and ORDERS_SUBGRAPH_URL set the routing URLs written into it.
 */
import { composeApollo } from './supergraph.js';

const result = composeApollo({
  kibo: process.env.KIBO_SUBGRAPH_URL ?? 'http://localhost:4000/graphql',
  orders: process.env.ORDERS_SUBGRAPH_URL ?? 'http://localhost:4001/graphql',
});
if (result.errors?.length) {
  for (const error of result.errors) console.error(error.message);
  process.exit(1);
}
process.stdout.write(`${result.supergraphSdl}\n`);
