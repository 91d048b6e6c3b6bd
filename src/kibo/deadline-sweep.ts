/**
 * One interval for all Kibo calls in flight, instead of a timer, an AbortController and an abort
 * listener per call: every tick ends the calls past their deadline and those whose caller has gone
 * away. A call overruns its deadline by at most one tick. The interval runs only while calls are in
 * flight, and never keeps the process alive. MAX_EXECUTION_MS (`answer-rules.ts`) keeps its
 * executions' deadlines the same way.
 */

export interface SweptCall {
  /** `performance.now()` past which the call is ended. */
  readonly deadline: number;
  readonly callerSignal: { readonly aborted: boolean } | undefined;
  abort(reason: Error): void;
}

/** The whole exchange took longer than KIBO_REQUEST_TIMEOUT_MS. */
export class DeadlineExceeded extends Error {}
/** The GraphQL request the call was made for has gone (its client disconnected). */
export class CallerGone extends Error {}

export class DeadlineSweep {
  private readonly live = new Set<SweptCall>();
  private timer: NodeJS.Timeout | undefined;

  /** `tickMs`: how often calls are checked, so also how late a deadline or a disconnect may be noticed. */
  constructor(private readonly tickMs: number) {}

  /** Ticks often enough that a call overruns its deadline by at most an eighth of it (5–100 ms). */
  static forTimeout(requestTimeoutMs: number): DeadlineSweep {
    return new DeadlineSweep(Math.min(100, Math.max(5, Math.floor(requestTimeoutMs / 8))));
  }

  track(call: SweptCall): void {
    this.live.add(call);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.tickMs);
      this.timer.unref();
    }
  }

  untrack(call: SweptCall): void {
    this.live.delete(call);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    if (this.live.size === 0) return this.close();
    const now = performance.now();
    for (const call of this.live) {
      if (call.callerSignal?.aborted) call.abort(new CallerGone());
      else if (now >= call.deadline) call.abort(new DeadlineExceeded());
    }
  }
}
