/**
 * What Kibo sends is checked against the spec before anything reads it: a ticket whose fields have
 * the wrong type or shape (a string where an object belongs, an object as `accessToken`, a date
 * that is not one, a `sites` that is not a list) is Kibo failing, so it becomes UPSTREAM_UNAVAILABLE
 * here — never a TypeError or a serialization error deeper in, which would read as our own fault.
 *
 * The schemas are the spec's own, generated as data by codegen (`src/generated/kibo-schemas.ts`),
 * and compiled once when this module loads: no YAML is read at start, and a check of a projected
 * ticket costs a few microseconds. A projected ticket holds only what was asked for, and the spec
 * requires no property, so absent ones pass. Errors name the failing path, never a value.
 */
import { Ajv } from 'ajv';
import { KIBO_COMPONENTS } from '../generated/kibo-schemas.js';
import { unavailable } from './errors.js';
import type { KiboTicket } from './types.js';

// allErrors off: the first mismatch decides, and checking stops there. validateSchema off: checking
// the spec's schemas against JSON Schema's meta-schema would compile the meta-schema at every start
// (about a third of this module's start-up cost); the emulator checks the same schemas, meta-schema
// included, in every test run (src/emulator/spec.ts).
const ajv = new Ajv({ allErrors: false, strict: false, validateSchema: false });
ajv.addFormat('int32', { type: 'number', validate: (value) => Number.isInteger(value) && (value | 0) === value });
ajv.addFormat('date-time', { type: 'string', validate: isKiboDateTime });
ajv.addSchema({ $id: 'kibo', components: KIBO_COMPONENTS });
const checkTicket = ajv.getSchema('kibo#/components/schemas/TenantAdminUserAuthTicket')!;

const RFC_3339 =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?$/i;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * An RFC 3339 instant as the gateway's DateTime scalar serializes it: a real calendar day, seconds
 * 00–59, and the UTC offset optional (Kibo's .NET services omit it for UTC; the scalar reads those
 * as UTC). ajv-formats' date-time would refuse those, and its full check costs more per date.
 */
export function isKiboDateTime(value: string): boolean {
  const match = RFC_3339.exec(value);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return Number(match[3]) <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

/** The parsed body as a ticket, or UPSTREAM_UNAVAILABLE naming where it departs from the spec. */
export function validatedTicket(body: unknown): KiboTicket {
  if (checkTicket(body)) return body as KiboTicket;
  const error = checkTicket.errors?.[0];
  // instancePath is made of the spec's property names and list indices: no upstream value.
  const where = error
    ? `${error.instancePath || '/'} ${error.keyword === 'format' ? 'is not a date-time' : `fails ${error.keyword}`}`
    : '';
  throw unavailable(`the ticket does not match the spec${where ? `: ${where}` : ''}`);
}
