import { describe, expect, it } from 'vitest';
import {
  applyResponseFields,
  parseResponseFields,
  ResponseFieldsSyntaxError,
  type FieldSelection,
} from '../../src/emulator/response-fields.js';

/** A selection as plain data, so expectations read like the syntax they come from. */
function plain(selection: FieldSelection): Record<string, unknown> {
  return Object.fromEntries(
    [...selection].map(([name, children]) => [name, children === null ? true : plain(children)]),
  );
}

describe('parseResponseFields', () => {
  it.each([
    ['accessToken', { accessToken: true }],
    ['accessToken,tenant', { accessToken: true, tenant: true }],
    [
      'accessToken,tenant(id,name,sites(id,name))',
      { accessToken: true, tenant: { id: true, name: true, sites: { id: true, name: true } } },
    ],
    [' accessToken , tenant ( id ) ', { accessToken: true, tenant: { id: true } }],
    ['tenant(id),tenant(name)', { tenant: { id: true, name: true } }],
    ['tenant(id),tenant', { tenant: true }],
    ['tenant,tenant(id)', { tenant: true }],
    ['a(b(c(d(e))))', { a: { b: { c: { d: { e: true } } } } }],
    ['user_id2', { user_id2: true }],
  ])('reads %j', (input, expected) => {
    expect(plain(parseResponseFields(input))).toEqual(expected);
  });

  it.each([
    ['', 'expected a field name'],
    [',', 'expected a field name'],
    ['accessToken,', 'expected a field name'],
    [',accessToken', 'expected a field name'],
    ['a,,b', 'expected a field name'],
    ['tenant(', 'expected a field name'],
    ['tenant()', 'expected a field name'],
    ['tenant(id', 'expected ")"'],
    ['tenant(id))', 'unbalanced ")"'],
    ['tenant)id(', 'unbalanced ")"'],
    ['tenant(id,)', 'expected a field name'],
    ['tenant id', 'unexpected "i"'],
    ['ten-ant', 'unexpected "-"'],
    ['a.b', 'unexpected "."'],
    ['(id)', 'expected a field name, found "("'],
    ['a('.repeat(40) + 'x' + ')'.repeat(40), 'nesting deeper'],
  ])('rejects %j', (input, problem) => {
    expect(() => parseResponseFields(input)).toThrow(ResponseFieldsSyntaxError);
    expect(() => parseResponseFields(input)).toThrow(problem);
  });
});

describe('applyResponseFields', () => {
  const ticket = {
    accessToken: 'token',
    createdOn: '2024-01-01T00:00:00Z',
    tenant: {
      id: 1,
      name: 'One',
      sites: [
        { id: 10, name: 'Ten', domain: 'ten' },
        { id: 11, name: 'Eleven', domain: 'eleven' },
      ],
    },
    availableTenants: null,
  };

  it('keeps the named properties, recursively, and lists element by element', () => {
    expect(applyResponseFields(ticket, parseResponseFields('accessToken,tenant(id,sites(name))'))).toEqual({
      accessToken: 'token',
      tenant: { id: 1, sites: [{ name: 'Ten' }, { name: 'Eleven' }] },
    });
  });

  it('keeps a value whole when the name has no children, and leaves nulls as they are', () => {
    expect(applyResponseFields(ticket, parseResponseFields('tenant,availableTenants(id)'))).toEqual({
      tenant: ticket.tenant,
      availableTenants: null,
    });
  });

  it('ignores names the value does not have', () => {
    expect(applyResponseFields(ticket, parseResponseFields('nothing,tenant(nothing)'))).toEqual({ tenant: {} });
  });
});
