/**
 * The ticket check's date format and the DateTime scalar must agree: a date the check lets through
 * and the scalar then refuses would surface as an INTERNAL_SERVER_ERROR instead of
 * UPSTREAM_UNAVAILABLE. Random date-like strings are judged by both.
 */
import fc from 'fast-check';
import { DateTimeResolver } from 'graphql-scalars';
import { describe, expect, it } from 'vitest';
import { isKiboDateTime } from '../../src/kibo/validate-ticket.js';
import { kiboInstant } from '../../src/schema/scalars.js';

const serializes = (value: string) => {
  try {
    DateTimeResolver.serialize(kiboInstant(value));
    return true;
  } catch {
    return false;
  }
};

const digits = (length: number) => fc.stringMatching(new RegExp(`^\\d{${length}}$`));
const dateLike = fc
  .tuple(
    digits(4),
    digits(2),
    digits(2),
    fc.constantFrom('T', 't', ' '),
    digits(2),
    digits(2),
    digits(2),
    fc.constantFrom('', '.1', '.123456'),
    fc.constantFrom('', 'Z', 'z', '+01:00', '-23:59', '+24:00', '+0100', '+01'),
  )
  .map(([y, mo, d, t, h, mi, s, frac, offset]) => `${y}-${mo}-${d}${t}${h}:${mi}:${s}${frac}${offset}`);

describe('isKiboDateTime', () => {
  it('accepts exactly the date-times the DateTime scalar serializes', () => {
    fc.assert(
      fc.property(fc.oneof(dateLike, fc.string()), (value) => {
        expect(isKiboDateTime(value), value).toBe(serializes(value));
      }),
      { numRuns: 5_000 },
    );
  });

  it.each([
    ['2024-02-29T00:00:00Z', true],
    ['2023-02-29T00:00:00Z', false],
    ['2026-04-31T00:00:00Z', false],
    ['2026-01-02T03:04:05.123', true],
    ['2026-01-02T23:59:60Z', false],
  ])('%s → %s', (value, expected) => {
    expect(isKiboDateTime(value)).toBe(expected);
    expect(serializes(value)).toBe(expected);
  });
});
