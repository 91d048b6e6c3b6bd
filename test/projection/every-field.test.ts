/**
 * Minimal projection, field by field: for every field of every object type reachable from the
 * ticket, a query selecting that field alone must ask Kibo for the path to it and that field's own
 * needs — nothing else. Declarations are read from the schema, so a new field is covered the moment
 * it exists (and a field that declares nothing fails here).
 */
import { getNamedType, isObjectType, type GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KIBO_PLACEHOLDER, requiredPropertiesOf, restPropertyOf } from '../../src/projection/declarations.js';
import { schema } from '../../src/schema/index.js';
import { startStack, type Stack } from '../support/stack.js';

interface FieldCase {
  label: string;
  /** Ticket → … → the type holding the field, as (field name, REST property) steps. */
  path: string[];
  field: string;
  /** What the field itself contributes at its level, printed. */
  own: string;
  /** Selection inside the field, for object types. */
  inner: string;
}

function reachableFields(): FieldCase[] {
  const cases: FieldCase[] = [];
  const seen = new Set<string>();
  const queue: Array<{ type: GraphQLObjectType; path: string[] }> = [
    { type: schema.getType('TenantAdminUserAuthTicket') as GraphQLObjectType, path: [] },
  ];
  while (queue.length) {
    const { type, path } = queue.shift()!;
    if (seen.has(type.name)) continue;
    seen.add(type.name);
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type);
      const property = restPropertyOf(field);
      const required = requiredPropertiesOf(field);
      const own =
        property !== undefined
          ? isObjectType(named)
            ? `${property}(${named.extensions[KIBO_PLACEHOLDER]})`
            : property
          : [...required].sort().join(',');
      cases.push({
        label: `${type.name}.${field.name}`,
        path,
        field: field.name,
        own,
        inner: isObjectType(named) ? '{ __typename }' : '',
      });
      if (isObjectType(named)) queue.push({ type: named, path: [...path, field.name] });
    }
  }
  return cases;
}

const CASES = reachableFields();

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'silent' } });
});
afterAll(() => stack.close());

describe('minimal projection for every field', () => {
  it('covers every object type of the schema', () => {
    const covered = new Set(CASES.map((c) => c.label.split('.')[0]));
    const objectTypes = Object.values(schema.getTypeMap()).filter(
      (t) => isObjectType(t) && !t.name.startsWith('_') && !['Query', 'Mutation'].includes(t.name),
    );
    expect([...covered].sort()).toEqual(objectTypes.map((t) => t.name).sort());
  });

  it.each(CASES.map((c) => [c.label, c] as const))('%s', async (_label, fieldCase) => {
    expect(fieldCase.own, `${fieldCase.label} declares no Kibo property and no requirement`).not.toBe('');
    const selection = fieldCase.path.reduceRight(
      (inner, step) => `${step} { ${inner} }`,
      `${fieldCase.field} ${fieldCase.inner}`,
    );
    const expected = fieldCase.path.reduceRight((inner, step) => `${step}(${inner})`, fieldCase.own);
    stack.resetRecords();
    const response = await stack.graphql(`mutation { switchTenant(tenantId: 100002) { ${selection} } }`);
    expect(response.body.errors).toBeUndefined();
    expect(stack.receivedResponseFields()).toEqual([expected]);
  });
});
