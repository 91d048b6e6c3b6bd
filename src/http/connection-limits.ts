/**
 * How long a client may take and how many may hold a connection: without these, Node waits 60 s or
 * more for headers and 300 s for a body, and accepts sockets until the process runs out of file
 * descriptors — a few hundred slow or idle sockets then hold the gateway hostage.
 *
 * - headers within HEADERS_TIMEOUT_MS, the whole request within REQUEST_TIMEOUT_MS, else 408
 *   (answered and logged in `request-outcomes.ts`);
 * - an idle keep-alive connection is kept KEEP_ALIVE_TIMEOUT_MS: longer than the load balancer's own
 *   idle timeout, so the balancer always closes first and never sends a request onto a socket the
 *   gateway is closing at that instant (which the balancer would answer 502);
 * - at most MAX_CONNECTIONS sockets at once: later ones are closed on arrival, and counted.
 */
import type { Server, ServerOptions } from 'node:http';
import type { HttpServerLimits } from '../config.js';

/** Options that only `createServer` takes. */
export function connectionLimitOptions(limits: HttpServerLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the two timeouts on this period (30 s by default, which would let a slow client
    // outlive a 10 s limit threefold): a tenth of the headers timeout, within 50 ms … 1 s.
    connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(limits.headersTimeoutMs / 10))),
  };
}

/** Caps concurrent connections; `onDrop` hears of each one closed on arrival. */
export function capConnections(server: Server, limits: HttpServerLimits, onDrop: () => void): void {
  server.maxConnections = limits.maxConnections;
  server.on('drop', onDrop);
}
