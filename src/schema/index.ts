/** Registers every type and root field on the builder, then builds the schema once. */
import packageJson from '../../package.json' with { type: 'json' };
import { builder } from '../builder.js';
import './scalars.js';
import './ticket.js';
import './switch-tenant.js';
import { withCheckedRepresentations } from './entities.js';

/** The version `package.json` declares: one place to bump it. */
export const GATEWAY_VERSION = packageJson.version;

builder.queryType({
  description:
    'Everything here is a mutation: switching tenant mints tokens. The query root exists because GraphQL requires one.',
  fields: (t) => ({
    gatewayVersion: t.string({
      description: 'The running kibo-auth-gateway version, so a client can tell which build it talks to.',
      resolve: () => GATEWAY_VERSION,
    }),
  }),
});
builder.mutationType({});

/** Federation v2, pinned: the spec version this subgraph's SDL links, which composition checks. */
export const FEDERATION_LINK = 'https://specs.apollo.dev/federation/v2.9';

/** The served schema: the public API plus federation's `_service` and `_entities`. */
export const schema = withCheckedRepresentations(
  builder.toSubGraphSchema({ linkUrl: FEDERATION_LINK, federationDirectives: ['@key'] }),
);
