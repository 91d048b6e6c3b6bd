/**
 * The deadline sweep every Kibo call and every execution with a Kibo call passes through: it ends
 * calls past their deadline or whose caller has gone, and must let go of a call the moment it ends.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CallerGone, DeadlineExceeded, DeadlineSweep, type SweptCall } from '../../src/kibo/deadline-sweep.js';

interface TestCall extends SweptCall {
  endedBy: Error | undefined;
  caller: { aborted: boolean };
}

function call(deadline: number, onAbort?: (self: TestCall) => void): TestCall {
  const caller = { aborted: false };
  const self: TestCall = {
    deadline,
    caller,
    callerSignal: caller,
    sweepSlot: -1,
    endedBy: undefined,
    abort(reason) {
      self.endedBy = reason;
      onAbort?.(self);
    },
  };
  return self;
}

const TICK_MS = 5;
const ticks = (n: number) => new Promise((resolve) => setTimeout(resolve, n * TICK_MS + 20));

describe('DeadlineSweep', () => {
  it('ends a call past its deadline and one whose caller has gone; leaves the others', async () => {
    const sweep = new DeadlineSweep(TICK_MS);
    const late = call(performance.now() - 1, (self) => sweep.untrack(self));
    const gone = call(performance.now() + 60_000, (self) => sweep.untrack(self));
    const fine = call(performance.now() + 60_000);
    for (const c of [late, gone, fine]) sweep.track(c);
    gone.caller.aborted = true;
    await ticks(2);
    expect(late.endedBy).toBeInstanceOf(DeadlineExceeded);
    expect(gone.endedBy).toBeInstanceOf(CallerGone);
    expect(fine.endedBy).toBeUndefined();
    expect(sweep.size).toBe(1);
    sweep.untrack(fine);
    sweep.close();
  });

  it('untracking twice, or a call never tracked here, changes nothing; a freed slot taken again is not freed by its old call', () => {
    const sweep = new DeadlineSweep(TICK_MS);
    const first = call(performance.now() + 60_000);
    const never = call(performance.now() + 60_000);
    // Tracked by another sweep (the Kibo client's and the executions' are two): in slot 0 there too.
    const elsewhere = new DeadlineSweep(TICK_MS);
    const another = call(performance.now() + 60_000);
    elsewhere.track(another);
    sweep.track(first);
    sweep.untrack(first);
    const second = call(performance.now() + 60_000);
    sweep.track(second);
    expect(second.sweepSlot).toBe(0); // the slot `first` left
    expect(another.sweepSlot).toBe(0);
    sweep.untrack(first);
    sweep.untrack(never);
    sweep.untrack(another);
    expect(sweep.size).toBe(1);
    elsewhere.untrack(another);
    elsewhere.close();
    sweep.track(second);
    expect(sweep.size).toBe(1);
    sweep.untrack(second);
    sweep.untrack(second);
    expect(sweep.size).toBe(0);
    sweep.close();
  });

  it('a call that ends another while the sweep runs: both ended once, the rest still swept', async () => {
    const sweep = new DeadlineSweep(TICK_MS);
    const past = performance.now() - 1;
    const victim = call(past, (self) => sweep.untrack(self));
    const killer = call(past, (self) => {
      sweep.untrack(self);
      sweep.untrack(victim);
    });
    const later = call(past, (self) => sweep.untrack(self));
    for (const c of [killer, victim, later]) sweep.track(c);
    await ticks(2);
    expect(killer.endedBy).toBeInstanceOf(DeadlineExceeded);
    expect(victim.endedBy).toBeUndefined();
    expect(later.endedBy).toBeInstanceOf(DeadlineExceeded);
    expect(sweep.size).toBe(0);
    sweep.close();
  });

  // A call holds its request's context and answer: kept past its end, it survives the young
  // collections and is copied into the old generation, and every request then costs a full
  // collection's work. A Set in place of the slots did exactly that (~21 % of what the trusted path
  // allocated was promoted under load; here, ~11 MB of these 40 MB).
  it('keeps no ended call alive: what passes through is not promoted to the old generation', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
    const oldSpaceUsed = () =>
      getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')!.space_used_size;
    const sweep = new DeadlineSweep(60_000);
    // Some calls first, so the sweep's own arrays are grown, and old, as in a server that has run a while.
    const warm = Array.from({ length: 16 }, () => call(performance.now() + 60_000));
    for (const c of warm) sweep.track(c);
    for (const c of warm) sweep.untrack(c);
    gc({ type: 'major' });
    gc({ type: 'major' });
    const before = oldSpaceUsed();
    // Ten calls in flight at a time, each carrying ~2 KB, as ten concurrent requests would.
    const inFlight: Array<TestCall & { payload: number[] }> = [];
    for (let i = 0; i < 20_000; i++) {
      const next = Object.assign(call(performance.now() + 60_000), { payload: new Array<number>(256).fill(i) });
      sweep.track(next);
      inFlight.push(next);
      if (inFlight.length > 10) sweep.untrack(inFlight.shift()!);
      if (i % 300 === 0) gc({ type: 'minor' });
    }
    for (const c of inFlight.splice(0)) sweep.untrack(c);
    sweep.close();
    const grewBy = oldSpaceUsed() - before;
    expect(grewBy).toBeLessThan(1024 * 1024);
  });
});
