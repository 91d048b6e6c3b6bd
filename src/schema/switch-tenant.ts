/** The `switchTenant` mutation: Kibo's Refresh Auth Ticket, asked for exactly what the selection needs. */
import { builder } from '../builder.js';
import { responseFieldsFor } from '../projection/response-fields.js';
import { credentialsFor } from './credentials.js';
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
      const credentials = credentialsFor(context.request, args.refreshToken);
      const responseFields = context.projection ? responseFieldsFor(info, context.kibo.queryBudget) : undefined;
      try {
        return await ticketLoader(context).load({ tenantId: args.tenantId, responseFields, ...credentials });
      } catch (error) {
        throw toGraphQLError(error);
      }
    },
  }),
);
