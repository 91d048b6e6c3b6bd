/**
 * What `switchTenant` does for one root field: check the input, find the credentials, ask Kibo for
 * exactly what the selection needs (the union, when aliases share the call) and, in cookie mode,
 * queue the refresh-token cookie.
 */
import type { FieldNode, GraphQLResolveInfo } from 'graphql';
import type { KiboTicket } from '../kibo/types.js';
import { responseFieldsFor } from '../projection/response-fields.js';
import type { GatewayContext } from './context.js';
import { credentialsFor } from './credentials.js';
import { COOKIE_TICKET_PROPERTIES, setRefreshTokenCookie } from './refresh-token-cookie.js';
import { badUserInput, toGraphQLError } from './upstream-errors.js';

export interface SwitchTenantArgs {
  tenantId: number;
  refreshToken?: string | null | undefined;
}

export async function switchTenant(
  args: SwitchTenantArgs,
  context: GatewayContext,
  info: GraphQLResolveInfo,
): Promise<KiboTicket> {
  if (args.tenantId <= 0)
    throw badUserInput(`tenantId must be a positive tenant id, got ${args.tenantId}.`, 'tenantId');
  const cookie = context.refreshTokenCookie;
  const credentials = credentialsFor(context.request, args.refreshToken, cookie);
  const responseFields = context.projection
    ? responseFieldsFor(info, {
        budget: context.kibo.queryBudget,
        fieldNodes: fieldsSharingThisCall(context, info),
        alsoNeeded: cookie ? COOKIE_TICKET_PROPERTIES : [],
      })
    : undefined;
  let ticket: KiboTicket;
  try {
    ticket = await context.tickets.load({ tenantId: args.tenantId, responseFields, ...credentials });
  } catch (error) {
    throw toGraphQLError(error);
  }
  if (cookie) setRefreshTokenCookie(context.request, cookie, ticket);
  return ticket;
}

/**
 * Every root field that makes the same Kibo call as this one (same arguments), so aliases with
 * different sub-selections share one call with the union of their needs.
 */
function fieldsSharingThisCall(context: GatewayContext, info: GraphQLResolveInfo): readonly FieldNode[] {
  const calls = context.callPlan.callsOf(info.schema, info.operation, info.fragments, info.variableValues);
  const mine = calls.find((call) => call.fieldNodes.includes(info.fieldNodes[0]!));
  return mine && mine.fieldNodes.length > info.fieldNodes.length ? mine.fieldNodes : info.fieldNodes;
}
