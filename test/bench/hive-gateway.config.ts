/**
 * The Hive Gateway CLI's configuration for `npm run bench -- --supergraph`: the supergraph file the
 * bench composed, the three headers this subgraph needs propagated (README: "Use it in a
 * supergraph"), and — when the bench runs several replicas of the gateway — round-robin over them
 * (a supergraph names one URL per subgraph; this spreads the calls as a load balancer would).
 */
import { defineConfig } from '@graphql-hive/gateway';

const PROPAGATED_HEADERS = ['authorization', 'x-kibo-refresh-token', 'x-vol-tenant'];
const replicas = (process.env.KIBO_REPLICAS ?? '').split(',').filter(Boolean);
let next = 0;

export const gatewayConfig = defineConfig({
  supergraph: process.env.SUPERGRAPH_PATH!,
  logging: 'warn',
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) =>
      Object.fromEntries(
        PROPAGATED_HEADERS.flatMap((name) => {
          const value = request.headers.get(name);
          return value === null ? [] : [[name, value]];
        }),
      ),
  },
  plugins: () =>
    replicas.length > 1
      ? [
          {
            onFetch({ url, setURL }) {
              if (url === replicas[0]) setURL(replicas[next++ % replicas.length]!);
            },
          },
        ]
      : [],
});
