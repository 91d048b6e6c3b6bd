/** The orders test subgraph as its own process for the supergraph bench: listens on PORT. */
import { createServer } from 'node:http';
import { createYoga } from 'graphql-yoga';
import { ordersSchema } from '../federation/orders-subgraph.js';

const yoga = createYoga({ schema: ordersSchema(), graphqlEndpoint: '/graphql', logging: false, graphiql: false });
const server = createServer(yoga).listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
