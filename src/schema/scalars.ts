/** Scalars from graphql-scalars: `DateTime` for the spec's date-time strings, `JSON` for untyped values. */
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { builder } from '../builder.js';

const HAS_UTC_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Kibo's .NET services sometimes write UTC instants without an offset; read those as UTC instead of
 * as server-local time (what `Date.parse` would do) or failing the field.
 */
export function kiboInstant(value: string): string {
  return HAS_UTC_OFFSET.test(value) ? value : `${value}Z`;
}

export function secondsUntil(value: string, now = Date.now()): number {
  return Math.floor((Date.parse(kiboInstant(value)) - now) / 1000);
}

builder.addScalarType('DateTime', DateTimeResolver, {
  serialize: (value) => DateTimeResolver.serialize(typeof value === 'string' ? kiboInstant(value) : value),
});

builder.addScalarType('JSON', JSONResolver);
