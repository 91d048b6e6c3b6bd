/**
 * Random valid operations over the real schema, for the differential projection test. Each one
 * comes with the responseFields a correct walker must send, computed from the generator's own
 * model of what it wrote — not from the gateway's walker.
 *
 * It writes what real clients write: random subsets of fields at every depth, aliases (two of one
 * field with different sub-selections included), named and inline fragments, nested fragments,
 * `@skip`/`@include` with literal and variable conditions, and `__typename` anywhere.
 */
import fc from 'fast-check';
import { getNamedType, isObjectType, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { KIBO_PLACEHOLDER, KIBO_REQUIRES } from '../../src/projection/declarations.js';

type Condition = boolean | `$${string}`;
type Directive = { name: 'skip' | 'include'; condition: Condition } | undefined;

type Item =
  | { kind: 'field'; field: string; alias: string | undefined; directive: Directive; children: Item[] | undefined }
  | { kind: 'typename'; alias: string | undefined; directive: Directive }
  | { kind: 'inline'; typed: boolean; directive: Directive; children: Item[] }
  | { kind: 'spread'; directive: Directive; children: Item[] };

export interface GeneratedOperation {
  query: string;
  variables: Record<string, boolean>;
  /** What Kibo must be asked for, printed like the gateway prints it (sorted). */
  expectedResponseFields: string;
  tenantId: number;
}

const VARIABLES = ['v0', 'v1', 'v2', 'v3'] as const;
const MAX_DEPTH = 4;

/** Random selection sets on any object type of the schema; `depth` counts from the operation's root field. */
function selectionArbitrary(): (type: GraphQLObjectType, depth: number) => fc.Arbitrary<Item[]> {
  const memo = new Map<string, fc.Arbitrary<Item[]>>();

  const directive: fc.Arbitrary<Directive> = fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      arbitrary: fc.record({
        name: fc.constantFrom('skip' as const, 'include' as const),
        condition: fc.oneof(fc.boolean(), fc.constantFrom(...VARIABLES.map((name) => `$${name}` as const))),
      }),
    },
  );

  const itemsFor = (type: GraphQLObjectType, depth: number): fc.Arbitrary<Item[]> => {
    const key = `${type.name}@${depth}`;
    const cached = memo.get(key);
    if (cached) return cached;
    const fieldNames = Object.keys(type.getFields());
    const alias = fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined, freq: 3 });

    const field: fc.Arbitrary<Item> = fc.constantFrom(...fieldNames).chain((name) => {
      const fieldType = getNamedType(type.getFields()[name]!.type);
      const objectType = isObjectType(fieldType) ? fieldType : undefined;
      if (objectType && depth >= MAX_DEPTH)
        return fc.constant<Item>({ kind: 'typename', alias: undefined, directive: undefined });
      return fc.record({
        kind: fc.constant('field' as const),
        field: fc.constant(name),
        alias: alias.map((n) => (n === undefined ? undefined : `${name}_a${n}`)),
        directive,
        children: objectType ? fc.constant(null).chain(() => itemsFor(objectType, depth + 1)) : fc.constant(undefined),
      });
    });
    const typename: fc.Arbitrary<Item> = fc.record({
      kind: fc.constant('typename' as const),
      alias: alias.map((n) => (n === undefined ? undefined : `__typename_a${n}`)),
      directive,
    });
    const nested = fc.constant(null).chain(() => itemsFor(type, depth + 1));
    const inline: fc.Arbitrary<Item> = fc.record({
      kind: fc.constant('inline' as const),
      typed: fc.boolean(),
      directive,
      children: nested,
    });
    const spread: fc.Arbitrary<Item> = fc.record({ kind: fc.constant('spread' as const), directive, children: nested });

    const item =
      depth >= MAX_DEPTH
        ? fc.oneof({ weight: 8, arbitrary: field }, { weight: 1, arbitrary: typename })
        : fc.oneof(
            { weight: 10, arbitrary: field },
            { weight: 1, arbitrary: typename },
            { weight: 1, arbitrary: inline },
            { weight: 1, arbitrary: spread },
          );
    const items = fc.array(item, { minLength: 1, maxLength: depth === 0 ? 6 : 4 });
    memo.set(key, items);
    return items;
  };

  return itemsFor;
}

export function operationArbitrary(schema: GraphQLSchema): fc.Arbitrary<GeneratedOperation> {
  const ticket = schema.getType('TenantAdminUserAuthTicket') as GraphQLObjectType;
  const itemsFor = selectionArbitrary();
  return fc
    .record({
      items: itemsFor(ticket, 0),
      values: fc.record(
        Object.fromEntries(VARIABLES.map((name) => [name, fc.boolean()])) as Record<
          (typeof VARIABLES)[number],
          fc.Arbitrary<boolean>
        >,
      ),
      tenantId: fc.integer({ min: 100001, max: 100050 }),
      rootAlias: fc.boolean(),
    })
    .map(({ items, values, tenantId, rootAlias }) => {
      const printer = new Printer(schema);
      const body = printer.items(items, ticket);
      const used = VARIABLES.filter((name) => printer.usedVariables.has(name));
      const declarations = used.length ? `(${used.map((name) => `$${name}: Boolean!`).join(', ')})` : '';
      const root = `${rootAlias ? 'ticket: ' : ''}switchTenant(tenantId: ${tenantId})`;
      const query = `mutation Generated${declarations} { ${root} { ${body} } }\n${printer.fragments.join('\n')}`;
      const variables = Object.fromEntries(used.map((name) => [name, values[name]]));
      const expected = expectedProjection(items, ticket, variables);
      return { query, variables, tenantId, expectedResponseFields: print(expected) };
    });
}

class Printer {
  readonly fragments: string[] = [];
  readonly usedVariables = new Set<string>();
  constructor(private readonly schema: GraphQLSchema) {}

  items(items: Item[], type: GraphQLObjectType): string {
    return items.map((item) => this.item(item, type)).join(' ');
  }

  private directive(directive: Directive): string {
    if (!directive) return '';
    if (typeof directive.condition === 'string') this.usedVariables.add(directive.condition.slice(1));
    return ` @${directive.name}(if: ${directive.condition})`;
  }

  private item(item: Item, type: GraphQLObjectType): string {
    switch (item.kind) {
      case 'typename':
        return `${item.alias ? `${item.alias}: ` : ''}__typename${this.directive(item.directive)}`;
      case 'field': {
        const head = `${item.alias ? `${item.alias}: ` : ''}${item.field}${this.directive(item.directive)}`;
        if (!item.children) return head;
        const childType = getNamedType(type.getFields()[item.field]!.type) as GraphQLObjectType;
        return `${head} { ${this.items(item.children, childType)} }`;
      }
      case 'inline':
        return `...${item.typed ? ` on ${type.name}` : ''}${this.directive(item.directive)} { ${this.items(item.children, type)} }`;
      case 'spread': {
        const name = `F${this.fragments.length}`;
        this.fragments.push('');
        const index = this.fragments.length - 1;
        this.fragments[index] = `fragment ${name} on ${type.name} { ${this.items(item.children, type)} }`;
        return `...${name}${this.directive(item.directive)}`;
      }
    }
  }
}

type Model = Map<string, Model>;

function included(directive: Directive, variables: Record<string, boolean>): boolean {
  if (!directive) return true;
  const value =
    typeof directive.condition === 'boolean' ? directive.condition : variables[directive.condition.slice(1)]!;
  return directive.name === 'include' ? value : !value;
}

/** The model of what the generated items need: merged per property, placeholders for empty objects. */
function expectedProjection(items: Item[], type: GraphQLObjectType, variables: Record<string, boolean>): Model {
  const wanted = new Map<string, { objectType?: GraphQLObjectType; children: Item[]; whole: boolean }>();
  const visit = (list: Item[]) => {
    for (const item of list) {
      if (!included(item.directive, variables)) continue;
      if (item.kind === 'inline' || item.kind === 'spread') visit(item.children);
      if (item.kind !== 'field') continue;
      const field = type.getFields()[item.field]!;
      const requires = (field.extensions as Record<string, readonly string[] | undefined>)[KIBO_REQUIRES];
      if (requires) {
        for (const property of requires)
          wanted.set(property, { ...(wanted.get(property) ?? { children: [] }), whole: true });
        continue;
      }
      const fieldType = getNamedType(field.type);
      const entry = wanted.get(item.field) ?? { children: [], whole: false };
      if (isObjectType(fieldType)) entry.objectType = fieldType;
      entry.children.push(...(item.children ?? []));
      wanted.set(item.field, entry);
    }
  };
  visit(items);
  const model: Model = new Map();
  for (const [property, entry] of wanted) {
    model.set(
      property,
      entry.objectType && !entry.whole ? expectedProjection(entry.children, entry.objectType, variables) : new Map(),
    );
  }
  if (model.size === 0) model.set(String(type.extensions[KIBO_PLACEHOLDER]), new Map());
  return model;
}

function print(model: Model): string {
  return [...model.keys()]
    .sort()
    .map((name) => (model.get(name)!.size ? `${name}(${print(model.get(name)!)})` : name))
    .join(',');
}

export interface GeneratedEntitiesOperation {
  query: string;
  variables: Record<string, unknown>;
}

/**
 * Random `_entities` operations, as a federation gateway sends them: a random selection on some of
 * the entity types (fragments, aliases, directives and all), and random references among `keys` —
 * known ones and ones no ticket holds.
 */
export function entitiesOperationArbitrary(
  schema: GraphQLSchema,
  keys: Record<string, { field: string; values: readonly unknown[] }>,
): fc.Arbitrary<GeneratedEntitiesOperation> {
  const itemsFor = selectionArbitrary();
  const typenames = Object.keys(keys);
  const selections = fc.record(
    Object.fromEntries(
      typenames.map((typename) => [
        typename,
        fc.option(itemsFor(schema.getType(typename) as GraphQLObjectType, 1), { nil: undefined, freq: 3 }),
      ]),
    ) as Record<string, fc.Arbitrary<Item[] | undefined>>,
  );
  const reference = fc
    .constantFrom(...typenames)
    .chain((typename) =>
      fc
        .constantFrom(...keys[typename]!.values)
        .map((value) => ({ __typename: typename, [keys[typename]!.field]: value })),
    );
  return fc
    .record({
      selections,
      representations: fc.array(reference, { minLength: 1, maxLength: 6 }),
      values: fc.record(
        Object.fromEntries(VARIABLES.map((name) => [name, fc.boolean()])) as Record<
          (typeof VARIABLES)[number],
          fc.Arbitrary<boolean>
        >,
      ),
    })
    .map(({ selections, representations, values }) => {
      const printer = new Printer(schema);
      const parts = typenames.flatMap((typename) => {
        const items = selections[typename];
        return items
          ? [`... on ${typename} { ${printer.items(items, schema.getType(typename) as GraphQLObjectType)} }`]
          : [];
      });
      const used = VARIABLES.filter((name) => printer.usedVariables.has(name));
      const declarations = used.map((name) => `, $${name}: Boolean!`).join('');
      const query = `query GeneratedEntities($representations: [_Any!]!${declarations}) { _entities(representations: $representations) { __typename ${parts.join(' ')} } }\n${printer.fragments.join('\n')}`;
      return { query, variables: { representations, ...Object.fromEntries(used.map((name) => [name, values[name]])) } };
    });
}
