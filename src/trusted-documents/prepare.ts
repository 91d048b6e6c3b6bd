/**
 * Work a trusted document needs done once, not per request: its distinct Kibo calls (what the
 * upstream call cap counts) and the `responseFields` of each of its `switchTenant` fields. Both are
 * computed at start; the projection lands in the projection's own cache (keyed on the document's
 * field nodes, which every request naming the document shares), so the resolver finds it there.
 *
 * Only what does not depend on the request is computed: an operation with variables keeps its call
 * count per request unless it is a single plain `switchTenant` field (one call whatever the
 * variables), and a projection that `@skip`/`@include` could change with a Boolean variable is left
 * to the first request that sets it.
 */
import {
  getOperationAST,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { responseFieldsFor, type QueryBudget } from '../projection/response-fields.js';
import { SWITCH_TENANT, switchTenantCalls } from '../requests/switch-tenant-calls.js';
import type { GatewayNeeds } from '../requests/switch-tenant.js';
import type { TrustedDocuments } from './manifest.js';

export interface PreparedDocument {
  /** Distinct Kibo calls the operation makes, when no variable can change it. */
  calls: number | undefined;
  /** `responseFields` per root `switchTenant` field, as the resolver will send it. */
  responseFields: Map<FieldNode, string | undefined>;
}

export interface PrepareOptions {
  schema: GraphQLSchema;
  /** The Kibo client's query budget: the projection is fitted to it exactly as at request time. */
  budget: QueryBudget;
  /** What the gateway adds to the selection itself, exactly as the resolver does (`gatewayNeeds`). */
  needs: GatewayNeeds;
  /** Projection off (PROJECTION=false): nothing to compute. */
  projection: boolean;
}

/** Prepared work by parsed document: the call cap and the bench look documents up here. */
export class PreparedDocuments {
  private readonly byDocument = new WeakMap<DocumentNode, PreparedDocument>();

  constructor(trusted: TrustedDocuments, options: PrepareOptions) {
    for (const { document } of trusted) {
      const prepared = prepare(document, options);
      if (prepared) this.byDocument.set(document, prepared);
    }
  }

  get(document: DocumentNode): PreparedDocument | undefined {
    return this.byDocument.get(document);
  }

  /** The operation's call count, when known without its variables. */
  callsOf(document: DocumentNode): number | undefined {
    return this.byDocument.get(document)?.calls;
  }
}

function prepare(document: DocumentNode, options: PrepareOptions): PreparedDocument | undefined {
  const operation = getOperationAST(document);
  if (!operation) return undefined;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  const variableFree = !operation.variableDefinitions?.length;
  const calls =
    variableFree || isSinglePlainRootField(operation)
      ? switchTenantCalls(options.schema, operation, fragments, {})
      : undefined;

  const responseFields = new Map<FieldNode, string | undefined>();
  const field = options.schema.getMutationType()?.getFields()[SWITCH_TENANT];
  if (calls && field && options.projection && !hasBooleanVariables(operation)) {
    for (const call of calls) {
      // Fields that share a call with others are merged per request and not cached; only a call's
      // lone field has a projection of its own.
      if (call.fieldNodes.length !== 1) continue;
      const fieldNode = call.fieldNodes[0]!;
      const info = {
        fieldNodes: [fieldNode],
        returnType: field.type,
        schema: options.schema,
        fragments,
        variableValues: {},
        operation,
      };
      responseFields.set(fieldNode, responseFieldsFor(info, { budget: options.budget, ...options.needs }));
    }
  }
  return { calls: calls?.length, responseFields };
}

function isSinglePlainRootField(operation: OperationDefinitionNode): boolean {
  const roots = operation.selectionSet.selections;
  return roots.length === 1 && roots[0]!.kind === Kind.FIELD && !roots[0]!.directives?.length;
}

function hasBooleanVariables(operation: OperationDefinitionNode): boolean {
  return (operation.variableDefinitions ?? []).some((definition) => {
    let type = definition.type;
    while (type.kind !== Kind.NAMED_TYPE) type = type.type;
    return type.name.value === 'Boolean';
  });
}
