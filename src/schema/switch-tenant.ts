/** The `switchTenant` mutation: Kibo's Refresh Auth Ticket, asked for exactly what the selection needs. */
import type { FieldNode, GraphQLResolveInfo } from 'graphql';
import { builder, type GatewayContext } from '../builder.js';
import type { KiboTicket } from '../kibo/types.js';
import { responseFieldsFor } from '../projection/response-fields.js';
import { COOKIE_TICKET_PROPERTIES, setRefreshTokenCookie } from '../security/refresh-token-cookie.js';
import { credentialsFor } from './credentials.js';
import { callsOfRequest } from './switch-tenant-calls.js';
import { TenantAdminUserAuthTicket } from './ticket.js';
import { ticketLoader } from './ticket-loader.js';
import { badUserInput, toGraphQLError } from './upstream-errors.js';

builder.mutationField('switchTenant', (t) =>
  t.field({
    type: TenantAdminUserAuthTicket,
    nullable: true,
    description:
      'Reauthenticates the current user for a different tenant. If the user does not have access to the tenant, the operation fails. ' +
      'Send the Kibo bearer token in `Authorization`; the refresh token comes from `refreshToken` or the `X-Kibo-Refresh-Token` header.',
    args: {
      tenantId: t.arg.int({ required: true, description: 'The tenant to authenticate the user in' }),
      refreshToken: t.arg.string({ description: 'The refresh token of an existing valid auth ticket. Defaults to the X-Kibo-Refresh-Token header.' }),
    },
    resolve: async (_root, args, context, info) => {
      if (args.tenantId <= 0) throw badUserInput(`tenantId must be a positive tenant id, got ${args.tenantId}.`, 'tenantId');
      const cookie = context.refreshTokenCookie;
      const credentials = credentialsFor(context.request, args.refreshToken, cookie);
      const responseFields = context.projection
        ? responseFieldsFor(info, { budget: context.kibo.queryBudget, fieldNodes: fieldsSharingThisCall(context, info), alsoNeeded: cookie ? COOKIE_TICKET_PROPERTIES : [] })
        : undefined;
      let ticket: KiboTicket;
      try {
        ticket = await ticketLoader(context).load({ tenantId: args.tenantId, responseFields, ...credentials });
      } catch (error) {
        throw toGraphQLError(error);
      }
      if (cookie) setRefreshTokenCookie(context.request, cookie, ticket);
      return ticket;
    },
  }),
);

/**
 * Every root field that makes the same Kibo call as this one (same arguments), so aliases with
 * different sub-selections share one call with the union of their needs.
 */
function fieldsSharingThisCall(context: GatewayContext, info: GraphQLResolveInfo): readonly FieldNode[] {
  const calls = callsOfRequest(context, info.schema, info.operation, info.fragments, info.variableValues);
  const mine = calls.find((call) => call.fieldNodes.includes(info.fieldNodes[0]!));
  return mine && mine.fieldNodes.length > info.fieldNodes.length ? mine.fieldNodes : info.fieldNodes;
}
