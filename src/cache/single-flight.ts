/**
 * One Kibo call per name at a time, across requests: concurrent misses for the same caller, tenant
 * and projection wait on the call the first one started. The call runs on its own signal, aborted
 * only when every request waiting on it has gone away — one impatient client does not fail the
 * others, and a call nobody waits for any more does not run on.
 */
interface Flight<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
}

export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /** Whether a call of that name is running (for tests and metrics). */
  has(name: string): boolean {
    return this.flights.has(name);
  }

  run(name: string, signal: AbortSignal | undefined, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    let flight = this.flights.get(name);
    if (!flight) {
      const controller = new AbortController();
      const started: Flight<T> = { controller, waiters: 0, promise: Promise.resolve(undefined as T) };
      started.promise = call(controller.signal).finally(() => {
        if (this.flights.get(name) === started) this.flights.delete(name);
      });
      this.flights.set(name, started);
      flight = started;
    }
    const joined = flight;
    joined.waiters++;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      signal?.removeEventListener('abort', leave);
      if (--joined.waiters > 0) return;
      // Nobody waits any more: newcomers start a call of their own rather than join a cancelled one.
      if (this.flights.get(name) === joined) this.flights.delete(name);
      joined.controller.abort(signal?.reason);
    };
    if (signal?.aborted) leave();
    else signal?.addEventListener('abort', leave, { once: true });
    // A waiter that left still settles with the call (aborted, if it was the last one), so every
    // caller sees the Kibo client's own outcome rather than an error of ours.
    return joined.promise.finally(() => {
      if (left) return;
      left = true;
      signal?.removeEventListener('abort', leave);
      joined.waiters--;
    });
  }
}
