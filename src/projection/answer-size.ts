/**
 * How many bytes of JSON a selection makes of a value Kibo sent — measured on the real value, so a
 * list counts as long as it is (graphql-armor's cost limit sees only the document, where a list is
 * one field). It runs before graphql-js builds the answer, and stops as soon as the allowance is
 * spent, so an answer too large to send is refused after a walk no longer than the allowance.
 *
 * The count follows graphql-js's field collection (fragments whose type condition applies,
 * `@skip`/`@include`, fields merged by response key) and JSON's punctuation, and counts a string as
 * the bytes it is sent as: one JSON escapes (a control character is six bytes) or UTF-8 widens (a CJK
 * character is three) would otherwise let Kibo's choice of characters multiply an answer past the
 * budget. Computed fields count as their inputs (what `kiboRequires` names) plus a few bytes.
 */
import {
  getNamedType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from 'graphql';
import { requiredPropertiesOf, restPropertyOf } from './declarations.js';
import { conditionVariablesOf } from './response-fields.js';
import { appliesTo, isIncluded } from './walker.js';

/** Bytes still allowed; the walk lowers it and stops when it goes below zero. */
export interface ByteAllowance {
  remaining: number;
}

type Context = Pick<GraphQLResolveInfo, 'schema' | 'fragments' | 'variableValues'>;

/** Bytes the fields selected by `selectionSets` on `type` make of `value`; false once over the allowance. */
export function spendOnSelection(
  context: Context,
  selectionSets: readonly SelectionSetNode[],
  type: GraphQLObjectType,
  value: unknown,
  allowance: ByteAllowance,
): boolean {
  return spendOnObject(context, selectionOf(context, selectionSets), type, value, allowance);
}

/**
 * A field's selection with its collected fields, kept with the document's AST when no `@skip` or
 * `@include` beneath it reads a variable: then every request with that document collects the same
 * fields, and only the walk over the value is left per request (the trusted documents' case).
 * `null`: the selection depends on variables and is collected per request.
 */
const sharedSelections = new WeakMap<SelectionSetNode, Selection | null>();

function selectionOf(context: Context, selectionSets: readonly SelectionSetNode[]): Selection {
  const root = selectionSets.length === 1 ? selectionSets[0]! : undefined;
  let shared = root && sharedSelections.get(root);
  if (root && shared === undefined) {
    const independent = conditionVariablesOf(root, context.fragments).length === 0;
    shared = independent ? { selectionSets, collected: new Map() } : null;
    sharedSelections.set(root, shared);
  }
  return shared ?? { selectionSets, collected: new Map() };
}

/** Selection sets merged under one response key, with the fields they select collected once per type. */
interface Selection {
  selectionSets: SelectionSetNode[] | readonly SelectionSetNode[];
  /** By type: the fields selected, in order, each response key once. */
  collected: Map<GraphQLObjectType, CollectedField[]>;
}

interface CollectedField {
  responseKey: string;
  name: string;
  selection: Selection;
}

/** While collecting: fields by response key, so selections under one key merge. */
type CollectedFields = Map<string, CollectedField>;

function spendOnObject(
  context: Context,
  selection: Selection,
  type: GraphQLObjectType,
  value: unknown,
  allowance: ByteAllowance,
): boolean {
  if (value === null || typeof value !== 'object') return spend(allowance, 4);
  // Every item of a list shares its Selection, so the fields are collected once per list.
  let fields = selection.collected.get(type);
  if (!fields) {
    const byResponseKey: CollectedFields = new Map();
    for (const selectionSet of selection.selectionSets) collect(context, selectionSet, type, byResponseKey, new Set());
    // Walked as an array for every value: iterating the Map made an entry pair per field per value.
    fields = [...byResponseKey.values()];
    selection.collected.set(type, fields);
  }
  if (!spend(allowance, 2)) return false;
  const source = value as Record<string, unknown>;
  for (const { responseKey, name, selection: subSelection } of fields) {
    // "key": and a comma
    if (!spend(allowance, responseKey.length + 4)) return false;
    if (name === '__typename') {
      if (!spend(allowance, type.name.length + 2)) return false;
      continue;
    }
    const field = type.getFields()[name];
    if (!field) continue;
    const property = restPropertyOf(field);
    if (property === undefined) {
      let inputs = 8;
      for (const required of requiredPropertiesOf(field)) inputs += jsonLength(source[required], allowance.remaining);
      if (!spend(allowance, inputs)) return false;
      continue;
    }
    if (!spendOnValue(context, shapeOf(field.type), subSelection, source[property], allowance)) return false;
  }
  return true;
}

/** What a field's type makes of a value, worked out once per type (graphql's type checks are not free). */
type Shape = { kind: 'leaf' } | { kind: 'object'; type: GraphQLObjectType } | { kind: 'list'; of: Shape };

const shapes = new WeakMap<GraphQLOutputType, Shape>();

function shapeOf(type: GraphQLOutputType): Shape {
  let shape = shapes.get(type);
  if (!shape) {
    const nullable = isNonNullType(type) ? type.ofType : type;
    const named = getNamedType(nullable);
    if (isListType(nullable)) shape = { kind: 'list', of: shapeOf(nullable.ofType) };
    else if (isObjectType(named)) shape = { kind: 'object', type: named };
    else shape = { kind: 'leaf' };
    shapes.set(type, shape);
  }
  return shape;
}

function spendOnValue(
  context: Context,
  shape: Shape,
  selection: Selection,
  value: unknown,
  allowance: ByteAllowance,
): boolean {
  if (value === null || value === undefined) return spend(allowance, 4);
  switch (shape.kind) {
    case 'list':
      if (!Array.isArray(value)) return spend(allowance, 4);
      if (!spend(allowance, 2)) return false;
      for (const item of value) {
        if (!spend(allowance, 1) || !spendOnValue(context, shape.of, selection, item, allowance)) return false;
      }
      return true;
    case 'object':
      return spendOnObject(context, selection, shape.type, value, allowance);
    case 'leaf':
      return spend(allowance, jsonLength(value, allowance.remaining));
  }
}

/** JSON length of a scalar or untyped value, counted no further than `cap`. */
function jsonLength(value: unknown, cap: number): number {
  if (value === null || value === undefined) return 4;
  switch (typeof value) {
    case 'string':
      return stringLength(value);
    case 'number':
    case 'boolean':
      return String(value).length;
    case 'object': {
      let length = 2;
      for (const [key, item] of Object.entries(value)) {
        length += stringLength(key) + 2 + jsonLength(item, cap - length);
        if (length > cap) break;
      }
      return length;
    }
    default:
      return 4;
  }
}

/** Anything but printable ASCII, a quote or a backslash: JSON escapes it or UTF-8 takes more than a byte. */
const NOT_ONE_BYTE = /[^\x20-\x7e]|["\\]/;

/**
 * Bytes of a string as JSON sends it, quotes included. Plain printable ASCII (nearly every string
 * Kibo sends) is its length, after one regular-expression test; anything else is measured exactly.
 */
function stringLength(value: string): number {
  return NOT_ONE_BYTE.test(value) ? Buffer.byteLength(JSON.stringify(value)) : value.length + 2;
}

function spend(allowance: ByteAllowance, bytes: number): boolean {
  allowance.remaining -= bytes;
  return allowance.remaining >= 0;
}

function collect(
  context: Context,
  selectionSet: SelectionSetNode,
  type: GraphQLObjectType,
  fields: CollectedFields,
  visitedFragments: Set<string>,
): void {
  for (const selection of selectionSet.selections) {
    if (!isIncluded(selection, context.variableValues)) continue;
    switch (selection.kind) {
      case Kind.FIELD: {
        const responseKey = selection.alias?.value ?? selection.name.value;
        let entry = fields.get(responseKey);
        if (!entry) {
          entry = { responseKey, name: selection.name.value, selection: { selectionSets: [], collected: new Map() } };
          fields.set(responseKey, entry);
        }
        const sets = entry.selection.selectionSets as SelectionSetNode[];
        // The same fragment reached twice adds its selection set once.
        if (selection.selectionSet && !sets.includes(selection.selectionSet)) sets.push(selection.selectionSet);
        break;
      }
      case Kind.INLINE_FRAGMENT:
        if (!selection.typeCondition || appliesTo(selection.typeCondition.name.value, type, context.schema))
          collect(context, selection.selectionSet, type, fields, visitedFragments);
        break;
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        const fragment: FragmentDefinitionNode | undefined = context.fragments[name];
        if (visitedFragments.has(name) || !fragment) break;
        visitedFragments.add(name);
        if (appliesTo(fragment.typeCondition.name.value, type, context.schema))
          collect(context, fragment.selectionSet, type, fields, visitedFragments);
        break;
      }
    }
  }
}
