/**
 * Readiness and the drain sequence a load balancer can follow. A replica that is told to stop
 * (SIGTERM) must not drop a request on the way out, so it leaves in an order a balancer can see:
 *
 *   1. `/ready` turns 503 (liveness, `/health`, stays 200: the process is fine, just leaving);
 *   2. for `drainDelayMs` it keeps accepting and serving while balancers notice and route elsewhere;
 *      every answer now carries `Connection: close`, so keep-alive pools (nginx's upstream
 *      keepalive, kube-proxy's conntrack-pinned clients) give up their connections to this replica
 *      after their current request, closed by the client's side, never raced by ours;
 *   3. once neither a connection nor a request has arrived for LISTENER_QUIET_MS (a late balancer's
 *      are still served, at most until half the grace period), it stops accepting connections and
 *      closes the idle ones (nobody should be using them by now);
 *   4. in-flight requests get up to `graceMs` to finish; then every connection left is closed.
 *
 * Nothing here looks at Kibo: a Kibo outage must not take every replica out of rotation at once.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { setImmediate as afterPoll, setTimeout as sleep } from 'node:timers/promises';
import { READY_PATH } from '../paths.js';
import type { Logger } from '../telemetry/logger.js';

export interface DrainTimings {
  /** How long the replica keeps serving after `/ready` turns 503, so balancers take it out of rotation. */
  drainDelayMs: number;
  /** Once no longer accepting, how long in-flight requests may take before every connection is closed. */
  graceMs: number;
}

/**
 * After the delay, the listener stays open until neither a connection nor a request has arrived for
 * this long: a balancer slower than the delay still has its connections served rather than refused
 * or reset, and its idle kept-alive ones are not closed while it is still using them.
 */
export const LISTENER_QUIET_MS = 250;

export class Drain {
  #draining = false;
  #sequence: Promise<void> | undefined;
  /**
   * New connections and requests: what says a balancer is still sending here. Requests before the
   * drain count too: with no delay, the balancer's traffic of the moment is what keeps it open.
   */
  #arrivals = 0;
  #lastArrivalAt = 0;

  constructor(
    private readonly server: Server,
    private readonly logger: Logger,
  ) {
    server.on('connection', () => {
      this.#arrivals++;
      this.#lastArrivalAt = performance.now();
    });
  }

  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Runs first on every request: answers `/ready`, and while draining marks the answer
   * `Connection: close` (Node then closes the socket once it is sent). True when it answered.
   */
  intercept(request: IncomingMessage, response: ServerResponse): boolean {
    this.#arrivals++;
    this.#lastArrivalAt = performance.now();
    if (this.#draining) response.setHeader('connection', 'close');
    const url = request.url ?? '';
    const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
    if (path !== READY_PATH) return false;
    response.writeHead(this.#draining ? 503 : 200, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
    });
    response.end(request.method === 'HEAD' ? undefined : `{"status":"${this.#draining ? 'draining' : 'ready'}"}`);
    return true;
  }

  /** The whole sequence; calling it again returns the sequence already under way. */
  run(timings: DrainTimings): Promise<void> {
    return (this.#sequence ??= this.#run(timings));
  }

  async #run({ drainDelayMs, graceMs }: DrainTimings): Promise<void> {
    this.#draining = true;
    if (drainDelayMs > 0) {
      this.logger.info({ drainDelayMs }, 'draining: /ready answers 503; still serving while balancers notice');
      await sleep(drainDelayMs);
    }
    // The grace period counts from the end of the delay, the quiet wait included, so the whole drain
    // stays within delay + grace (what the orchestrator's kill timeout is sized against).
    const graceEnds = performance.now() + graceMs;
    await this.#quietListener(graceEnds - graceMs / 2);
    // Since Node 19 close() also closes the connections that are idle right now: those whose last
    // request was answered. A connection accepted but whose request is not read yet is not idle to
    // Node (it counts as a request under way, for headersTimeout), so it is served, not reset.
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.logger.info({ graceMs }, 'no longer accepting connections; finishing in-flight requests');
    // A keep-alive connection whose request finishes is closed by its Connection: close answer; the
    // sweep catches any that went idle some other way (a client that ignored the header).
    const sweeper = setInterval(() => this.server.closeIdleConnections(), 50);
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace over'>(
      (resolve) => (graceTimer = setTimeout(resolve, Math.max(0, graceEnds - performance.now()), 'grace over')),
    );
    const outcome = await Promise.race([closed, graceOver]);
    clearInterval(sweeper);
    clearTimeout(graceTimer);
    if (outcome === 'grace over') {
      this.logger.warn({ graceMs }, 'grace period over: closing the connections still open');
      this.server.closeAllConnections();
    }
    await closed;
  }

  /**
   * Resolves once no connection or request has arrived for LISTENER_QUIET_MS, or at `limit`
   * (`performance.now()`): closing while a balancer still sends would refuse its connections, reset
   * those the kernel holds in the listen queue and close kept-alive ones it is about to use (each a
   * 502 for a POST at nginx). Each check runs
   * after a poll of the event loop: timers run before it, so after a stall (a CPU-starved replica)
   * the queue may hold connections that only the next poll accepts.
   */
  async #quietListener(limit: number): Promise<void> {
    for (;;) {
      const arrivals = this.#arrivals;
      await afterPoll();
      const quietFor = performance.now() - this.#lastArrivalAt;
      if ((arrivals === this.#arrivals && quietFor >= LISTENER_QUIET_MS) || performance.now() >= limit) return;
      await sleep(Math.max(1, LISTENER_QUIET_MS - quietFor));
    }
  }
}
