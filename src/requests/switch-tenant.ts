/**
 * What `switchTenant` does for one root field: check the input, find the credentials, ask Kibo for
 * exactly what the selection needs (the union, when aliases share the call) and, in cookie mode,
 * queue the refresh-token cookie.
 */
import { getNamedType, type FieldNode, type GraphQLObjectType, type GraphQLResolveInfo } from 'graphql';
import type { KiboTicket } from '../kibo/types.js';
import { responseFieldsFor, type ConditionalNeeds, type ResponseFieldsOptions } from '../projection/response-fields.js';
import { ticketsOf, type GatewayContext } from './context.js';
import { evictOnRefusal, SEEDING_BEARER, seedFromTicket, TICKET_EXPIRY } from './cached-entities.js';
import { credentialsFor } from './credentials.js';
import type { EntityPaths } from './entity-sets.js';
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
  /** Where entities live in a ticket: the entity cache is seeded from what this call returns. */
  entityPaths?: EntityPaths,
): Promise<KiboTicket> {
  if (args.tenantId <= 0)
    throw badUserInput(`tenantId must be a positive tenant id, got ${args.tenantId}.`, 'tenantId');
  const cookie = context.refreshTokenCookie;
  const credentials = credentialsFor(context.request, args.refreshToken, cookie);
  const sharing = fieldsSharingThisCall(context, info);
  const needs = gatewayNeeds(context);
  const responseFields = context.projection
    ? responseFieldsFor(info, {
        budget: context.kibo.queryBudget,
        fieldNodes: sharing.fieldNodes,
        alsoNeeded: needs.alsoNeeded,
        alsoNeededWhen: needs.alsoNeededWhen,
      })
    : undefined;
  const call = { tenantId: args.tenantId, responseFields, ...credentials };
  // Once the answer is over budget, no further call is worth making.
  if (context.answer.refusal) throw context.answer.refusal;
  let ticket: KiboTicket;
  try {
    // The operation's only call has nothing to share or deduplicate: no DataLoader round for it.
    ticket = await (sharing.onlyCall
      ? context.kiboConcurrency.run(call, () =>
          // Property by property: a spread of `call` here showed as ~3 % of the trusted path's CPU.
          context.kibo.refreshAuthTicket({
            tenantId: call.tenantId,
            responseFields: call.responseFields,
            authorization: call.authorization,
            refreshToken: call.refreshToken,
            signal: context.request.gone ?? context.request.signal,
            onDone: context.onKiboCall,
          }),
        )
      : ticketsOf(context).load(call));
  } catch (error) {
    if (context.entityCache) await evictOnRefusal(context.entityCache, credentials, error);
    throw toGraphQLError(error);
  }
  context.answer.charge(info, getNamedType(info.returnType) as GraphQLObjectType, ticket);
  if (cookie) setRefreshTokenCookie(context.request, cookie, ticket);
  // Whole tickets (projection off, or too long a projection) are not seeded: entries would be huge.
  if (context.entityCache && entityPaths && responseFields !== undefined)
    void seedFromTicket(context.entityCache, entityPaths, ticket, args.tenantId, responseFields, credentials);
  return ticket;
}

/**
 * The ticket's credentials and expiry seed the entity cache (GraphQL returns them only if
 * selected), but only when the client asked for the ticket's JWT: entries are found by the
 * credentials a later request presents, and a JWT the client never saw cannot be presented, so
 * seeding from that ticket would spend a hash, an entry and two tokens fetched for nothing.
 */
const SEEDING_NEEDS: ConditionalNeeds = {
  selected: SEEDING_BEARER,
  properties: [SEEDING_BEARER, 'refreshToken', TICKET_EXPIRY],
};

export type GatewayNeeds = Pick<ResponseFieldsOptions, 'alsoNeeded' | 'alsoNeededWhen'>;

/**
 * What the gateway adds to a switch's projection itself. The resolver and the trusted documents'
 * projections computed at start (trusted-documents/prepare.ts) must add the same, or those land
 * under a cache key the resolver never reads.
 */
export function gatewayNeeds(settings: {
  refreshTokenCookie?: string | undefined;
  entityCache?: unknown;
}): GatewayNeeds {
  return {
    alsoNeeded: settings.refreshTokenCookie ? COOKIE_TICKET_PROPERTIES : [],
    alsoNeededWhen: settings.entityCache ? SEEDING_NEEDS : undefined,
  };
}

/**
 * Every root field that makes the same Kibo call as this one (same arguments), so aliases with
 * different sub-selections share one call with the union of their needs; and whether this field is
 * the operation's one and only call.
 */
function fieldsSharingThisCall(
  context: GatewayContext,
  info: GraphQLResolveInfo,
): { fieldNodes: readonly FieldNode[]; onlyCall: boolean } {
  const calls = context.callPlan.callsOf(info.schema, info.operation, info.fragments, info.variableValues);
  const mine = calls.find((call) => call.fieldNodes.includes(info.fieldNodes[0]!));
  if (!mine) return { fieldNodes: info.fieldNodes, onlyCall: false };
  const fieldNodes = mine.fieldNodes.length > info.fieldNodes.length ? mine.fieldNodes : info.fieldNodes;
  return { fieldNodes, onlyCall: calls.length === 1 && mine.fieldNodes.length === 1 };
}
