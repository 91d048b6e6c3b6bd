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
  /** The sweep's bookkeeping: the call's slot while it is tracked, -1 otherwise (start it at -1). */
  sweepSlot: number;
}

/** The whole exchange took longer than KIBO_REQUEST_TIMEOUT_MS. */
export class DeadlineExceeded extends Error {}
/** The GraphQL request the call was made for has gone (its client disconnected). */
export class CallerGone extends Error {}

/**
 * The calls in flight sit in slots of an array, a freed slot taken by the next call, rather than in
 * a Set. A Set churned by every call kept calls alive long after they ended: measured under load,
 * ~21 % of everything the trusted path allocated was promoted to the old generation (scavenges of
 * 10–13 ms, against 1.6–1.9 ms with these slots, and 0.2 % promoted). The likely mechanism, which
 * the measurements fit but V8's source was not read to confirm: V8 rebuilds a Set's table as
 * deleted entries pile up, an old Set's new table is made in the old generation, and the table it
 * replaces still points at its entries until the next full collection, so each call, its context
 * and its answer lived on with it. test/kibo/deadline-sweep.test.ts checks the effect, not the cause.
 */
export class DeadlineSweep {
  private readonly slots: Array<SweptCall | undefined> = [];
  /** Slots emptied since, taken before the array grows: it stays as long as the most calls ever in flight at once. */
  private readonly freeSlots: number[] = [];
  private timer: NodeJS.Timeout | undefined;

  /** `tickMs`: how often calls are checked, so also how late a deadline or a disconnect may be noticed. */
  constructor(private readonly tickMs: number) {}

  /** Ticks often enough that a call overruns its deadline by at most an eighth of it (5–100 ms). */
  static forTimeout(requestTimeoutMs: number): DeadlineSweep {
    return new DeadlineSweep(Math.min(100, Math.max(5, Math.floor(requestTimeoutMs / 8))));
  }

  /** Calls tracked now: every slot is either taken or free. */
  get size(): number {
    return this.slots.length - this.freeSlots.length;
  }

  track(call: SweptCall): void {
    if (call.sweepSlot >= 0 && this.slots[call.sweepSlot] === call) return;
    const slot = this.freeSlots.pop() ?? this.slots.length;
    this.slots[slot] = call;
    call.sweepSlot = slot;
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.tickMs);
      this.timer.unref();
    }
  }

  /** Stops tracking `call`; a call not tracked (or untracked already) is left alone. */
  untrack(call: SweptCall): void {
    const slot = call.sweepSlot;
    if (slot < 0 || this.slots[slot] !== call) return;
    this.slots[slot] = undefined;
    this.freeSlots.push(slot);
    call.sweepSlot = -1;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    if (this.size === 0) {
      // Idle: the next burst starts from an empty array, whatever the last one's peak was.
      this.slots.length = 0;
      this.freeSlots.length = 0;
      return this.close();
    }
    const now = performance.now();
    // By index: an abort may untrack its own call (or another) while the loop runs.
    for (let slot = 0; slot < this.slots.length; slot++) {
      const call = this.slots[slot];
      if (call === undefined) continue;
      if (call.callerSignal?.aborted) call.abort(new CallerGone());
      else if (now >= call.deadline) call.abort(new DeadlineExceeded());
    }
  }
}
