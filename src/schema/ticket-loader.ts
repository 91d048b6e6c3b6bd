/**
 * One DataLoader per GraphQL request for ticket calls. Keys hold everything that changes Kibo's
 * answer — tenant, projection and credentials — so identical calls in one operation are made once
 * and different ones are never confused. Kibo has no batch endpoint: each distinct key is one call.
 */
import DataLoader from 'dataloader';
import type { GatewayContext } from '../builder.js';
import type { KiboTicket } from '../kibo/types.js';
import type { KiboCredentials } from './credentials.js';

export interface TicketKey extends KiboCredentials {
  tenantId: number;
  responseFields: string | undefined;
}

const loaders = new WeakMap<GatewayContext, DataLoader<TicketKey, KiboTicket, string>>();

export function ticketLoader(context: GatewayContext): DataLoader<TicketKey, KiboTicket, string> {
  let loader = loaders.get(context);
  if (!loader) {
    loader = new DataLoader(
      (keys) =>
        Promise.all(keys.map((key) => context.kibo.refreshAuthTicket({ ...key, signal: context.request.signal }).catch((error: Error) => error))),
      { cacheKeyFn: (key) => JSON.stringify([key.tenantId, key.responseFields ?? null, key.authorization, key.refreshToken]) },
    );
    loaders.set(context, loader);
  }
  return loader;
}
