/**
 * `INTROSPECTION=false` hides the schema from whoever asks. Three doors lead to it, and all three
 * close: `__schema`/`__type` (Yoga's own plugin); the federation `_service { sdl }` field, which
 * prints the whole subgraph schema (kept open with `SUBGRAPH_SDL=true` for routers that compose by
 * querying their subgraphs; others compose from `schema/subgraph.graphql`); and graphql-js's
 * "Did you mean …?" hints in validation errors, which spell out field names one guess at a time.
 */
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { GraphQLError, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ErrorCode } from '../error-codes.js';

const VALIDATION_FAILED: ErrorCode = 'GRAPHQL_VALIDATION_FAILED';

export interface IntrospectionSwitchOptions {
  /** Whether `__schema` and `__type` may be queried. Default in config: true. */
  introspection: boolean;
  /** With introspection off, whether `_service { sdl }` still answers. Default in config: false. */
  subgraphSdl: boolean;
}

export function useIntrospectionSwitch({ introspection, subgraphSdl }: IntrospectionSwitchOptions): Plugin[] {
  if (introspection) return [];
  return [
    useDisableIntrospection(),
    blockFieldSuggestionsPlugin() as Plugin,
    ...(subgraphSdl ? [] : [{ onValidate: ({ addValidationRule }) => addValidationRule(NoSubgraphSdl) } as Plugin]),
  ];
}

/** Refuses the federation `_service` field on the query root. */
const NoSubgraphSdl: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value !== '_service' || context.getParentType() !== context.getSchema().getQueryType()) return;
    context.reportError(
      new GraphQLError('The subgraph schema is not served here: introspection is off.', {
        nodes: [node],
        extensions: { code: VALIDATION_FAILED },
      }),
    );
  },
});
