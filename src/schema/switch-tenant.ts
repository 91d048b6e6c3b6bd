/** The `switchTenant` mutation: Kibo's Refresh Auth Ticket, asked for exactly what the selection needs. */
import { builder } from '../builder.js';
import { switchTenant } from '../requests/switch-tenant.js';
import { ENTITY_PATHS } from './entities.js';
import { TenantAdminUserAuthTicket } from './ticket.js';

builder.mutationField('switchTenant', (t) =>
  t.field({
    type: TenantAdminUserAuthTicket,
    nullable: true,
    description:
      'Reauthenticates the current user for a different tenant. If the user does not have access to the tenant, the operation fails. ' +
      'Send the Kibo bearer token in `Authorization`; the refresh token comes from `refreshToken` or the `X-Kibo-Refresh-Token` header.',
    args: {
      tenantId: t.arg.int({ required: true, description: 'The tenant to authenticate the user in' }),
      refreshToken: t.arg.string({
        description: 'The refresh token of an existing valid auth ticket. Defaults to the X-Kibo-Refresh-Token header.',
      }),
    },
    resolve: (_root, args, context, info) => switchTenant(args, context, info, ENTITY_PATHS),
  }),
);
