/**
 * One DataLoader per GraphQL request for ticket calls. Keys hold everything that changes Kibo's
 * answer — tenant, projection and credentials — so identical calls in one operation are made once
 * and different ones are never confused. Kibo has no batch endpoint: each distinct key is one call.
 */
import DataLoader from 'dataloader';
import type { KiboClient, UpstreamCallEvent } from '../kibo/client.js';
import type { KiboTicket } from '../kibo/types.js';
import type { CredentialConcurrencyLimit } from './concurrency-limit.js';
import type { KiboCredentials } from './credentials.js';

export interface TicketKey extends KiboCredentials {
  tenantId: number;
  responseFields: string | undefined;
}

export type TicketLoader = DataLoader<TicketKey, KiboTicket, string>;

/**
 * `signal` is the GraphQL request's: when its client goes away, so do its Kibo calls. Each call
 * waits for nothing: past the credential's concurrency cap it is refused at once. `onDone` hears
 * how each call went (for the request's log line).
 */
export function createTicketLoader(
  kibo: KiboClient,
  signal: AbortSignal,
  concurrency: CredentialConcurrencyLimit,
  onDone?: (event: UpstreamCallEvent) => void,
): TicketLoader {
  return new DataLoader(
    (keys) =>
      Promise.all(
        keys.map((key) =>
          concurrency.run(key, () => kibo.refreshAuthTicket({ ...key, signal, onDone })).catch((error: Error) => error),
        ),
      ),
    {
      cacheKeyFn: (key) =>
        JSON.stringify([key.tenantId, key.responseFields ?? null, key.authorization, key.refreshToken]),
    },
  );
}
