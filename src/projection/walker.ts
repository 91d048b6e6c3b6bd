/**
 * Walks a resolver's selection set and returns the projection Kibo must honour to answer it.
 *
 * Like graphql-js's own field collection, it follows named and inline fragments (only those whose
 * type condition applies), drops what `@skip`/`@include` exclude for the current variables, and
 * merges every selection of one REST property — across aliases and fragments — before descending,
 * so two aliases of `tenant` with different sub-selections ask for the union of both. Meta fields
 * (`__typename`) never reach Kibo.
 */
import {
  getDirectiveValues,
  getNamedType,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isAbstractType,
  isObjectType,
  Kind,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { placeholderOf, requiredPropertiesOf, restPropertyOf } from './declarations.js';
import { WHOLE_VALUE, type Projection } from './projection.js';

interface WalkContext {
  schema: GraphQLSchema;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

/** What one level of the selection wants of one REST property. */
interface PropertyNeed {
  /** Set when the property's own object type is known and sub-selections apply to it. */
  objectType: GraphQLObjectType | undefined;
  selectionSets: SelectionSetNode[];
  /** Some computed field needs the value whole, whatever else was selected beneath it. */
  whole: boolean;
}

/** The projection for the field being resolved, whose type must be an object type. */
export function projectionFromInfo(
  info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'returnType' | 'schema' | 'fragments' | 'variableValues'>,
): Projection {
  const type = getNamedType(info.returnType);
  if (!isObjectType(type)) throw new Error(`Cannot project ${type.name}: not an object type`);
  return projectionForType(info, type);
}

/**
 * The projection of what `selectionSets` select on `type` — for a field of an abstract type, such
 * as federation's `_entities`, only the fragments that apply to `type` count.
 */
export function projectionForType(
  info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'schema' | 'fragments' | 'variableValues'>,
  type: GraphQLObjectType,
): Projection {
  const selectionSets = info.fieldNodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
  return project(selectionSets, type, {
    schema: info.schema,
    fragments: info.fragments,
    variables: info.variableValues,
  });
}

function project(
  selectionSets: readonly SelectionSetNode[],
  type: GraphQLObjectType,
  context: WalkContext,
): Projection {
  const needs = new Map<string, PropertyNeed>();
  for (const selectionSet of selectionSets) collect(selectionSet.selections, type, context, needs);

  const projection = new Map<string, Projection>();
  for (const [property, need] of needs) {
    const descend = need.objectType && !need.whole && need.selectionSets.length > 0;
    projection.set(property, descend ? project(need.selectionSets, need.objectType!, context) : WHOLE_VALUE);
  }
  if (projection.size === 0) projection.set(placeholderOf(type), WHOLE_VALUE);
  return projection;
}

function collect(
  selections: readonly SelectionNode[],
  type: GraphQLObjectType,
  context: WalkContext,
  needs: Map<string, PropertyNeed>,
): void {
  for (const selection of selections) {
    if (!isIncluded(selection, context.variables)) continue;
    switch (selection.kind) {
      case Kind.FIELD: {
        const field = type.getFields()[selection.name.value];
        // Meta fields have no definition on the type; neither do they have anything to ask Kibo.
        if (!field) continue;
        const property = restPropertyOf(field);
        if (property !== undefined) {
          const fieldType = getNamedType(field.type);
          const need = needFor(needs, property, isObjectType(fieldType) ? fieldType : undefined);
          if (selection.selectionSet) need.selectionSets.push(selection.selectionSet);
        }
        for (const required of requiredPropertiesOf(field)) needFor(needs, required, undefined).whole = true;
        break;
      }
      case Kind.INLINE_FRAGMENT:
        if (!selection.typeCondition || appliesTo(selection.typeCondition.name.value, type, context.schema)) {
          collect(selection.selectionSet.selections, type, context, needs);
        }
        break;
      case Kind.FRAGMENT_SPREAD: {
        const fragment = context.fragments[selection.name.value];
        if (fragment && appliesTo(fragment.typeCondition.name.value, type, context.schema)) {
          collect(fragment.selectionSet.selections, type, context, needs);
        }
        break;
      }
    }
  }
}

function needFor(
  needs: Map<string, PropertyNeed>,
  property: string,
  objectType: GraphQLObjectType | undefined,
): PropertyNeed {
  let need = needs.get(property);
  if (!need) {
    need = { objectType, selectionSets: [], whole: false };
    needs.set(property, need);
  }
  need.objectType ??= objectType;
  return need;
}

/** Whether `@skip`/`@include` keep a selection for these variables. */
export function isIncluded(selection: SelectionNode, variables: Record<string, unknown>): boolean {
  if (!selection.directives?.length) return true;
  if (getDirectiveValues(GraphQLSkipDirective, selection, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, selection, variables)?.if !== false;
}

export function appliesTo(condition: string, type: GraphQLObjectType, schema: GraphQLSchema): boolean {
  if (condition === type.name) return true;
  const conditionType = schema.getType(condition);
  return conditionType !== undefined && isAbstractType(conditionType) && schema.isSubType(conditionType, type);
}
