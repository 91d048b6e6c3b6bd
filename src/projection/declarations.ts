/**
 * How a GraphQL field tells the projection what it needs from Kibo. The answer lives on the schema
 * itself, next to each field, so there is no second list of names to keep in step:
 * - a field made with Pothos's `t.expose*('property')` reads that REST property (Pothos records the
 *   name as `extensions.pothosExposedField`);
 * - a field computed in the gateway lists the sibling properties it reads in its `kiboRequires`
 *   option;
 * - an object type names in its `kiboPlaceholder` option the small property to ask for when a query
 *   selects nothing of it but `__typename`, so Kibo still sends the object (and nothing more).
 * Both options are typed against the REST shapes by declarations-plugin.ts, which records them in
 * the schema's `extensions` under the names below; this module reads them back.
 */
import type { GraphQLField, GraphQLObjectType } from 'graphql';

export const KIBO_REQUIRES = 'kiboRequires';
export const KIBO_PLACEHOLDER = 'kiboPlaceholder';

export interface KiboFieldExtensions {
  [KIBO_REQUIRES]?: readonly string[];
}

export interface KiboTypeExtensions {
  [KIBO_PLACEHOLDER]: string;
}

/** The REST property a field reads as is, if it reads one. */
export function restPropertyOf(field: GraphQLField<unknown, unknown>): string | undefined {
  const exposed = field.extensions.pothosExposedField;
  return typeof exposed === 'string' ? exposed : undefined;
}

export function requiredPropertiesOf(field: GraphQLField<unknown, unknown>): readonly string[] {
  return (field.extensions as KiboFieldExtensions)[KIBO_REQUIRES] ?? [];
}

export function placeholderOf(type: GraphQLObjectType): string {
  const placeholder = (type.extensions as Partial<KiboTypeExtensions>)[KIBO_PLACEHOLDER];
  if (!placeholder) throw new Error(`Type ${type.name} declares no ${KIBO_PLACEHOLDER}`);
  return placeholder;
}
