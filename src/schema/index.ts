/** Registers every type and root field on the builder, then builds the schema once. */
import { builder } from '../builder.js';
import './scalars.js';
import './ticket.js';
import './switch-tenant.js';

export const GATEWAY_VERSION = '0.1.0';

builder.queryType({
  description: 'Everything here is a mutation: switching tenant mints tokens. The query root exists because GraphQL requires one.',
  fields: (t) => ({
    gatewayVersion: t.string({
      description: 'The running kibo-auth-gateway version, so a client can tell which build it talks to.',
      resolve: () => GATEWAY_VERSION,
    }),
  }),
});
builder.mutationType({});

export const schema = builder.toSchema();
