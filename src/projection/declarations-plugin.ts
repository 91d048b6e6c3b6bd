/**
 * A small Pothos plugin that makes the projection's declarations typed options, the way
 * plugin-prisma's `select` and plugin-federation's `requires` are: a computed field names what it
 * reads in `kiboRequires`, an object type names its `__typename`-only placeholder in
 * `kiboPlaceholder`, and both are checked against the type's REST shape (generated from the spec),
 * so a misspelt property fails `npm run typecheck` instead of asking Kibo for nothing.
 *
 * The plugin only copies the options into the built schema's `extensions`, where the walker reads
 * them (see declarations.ts); it changes nothing at run time.
 */
import SchemaBuilder, {
  BasePlugin,
  type FieldNullability,
  type InputFieldMap,
  type PothosOutputFieldConfig,
  type PothosTypeConfig,
  type SchemaTypes,
  type TypeParam,
} from '@pothos/core';
import { KIBO_PLACEHOLDER, KIBO_REQUIRES } from './declarations.js';

/** Property names of a REST shape (the generated types list every property). */
export type RestProperty<Shape> = keyof Shape & string;

declare global {
  // Declaration merging into Pothos's option interfaces: the parameter lists must match Pothos's own.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      kiboDeclarations: KiboDeclarationsPlugin<Types>;
    }

    interface ObjectTypeOptions<Types extends SchemaTypes = SchemaTypes, Shape = unknown> {
      /** The small property to ask Kibo for when a query selects nothing of this type but `__typename`. */
      kiboPlaceholder?: RestProperty<Shape>;
    }

    interface FieldOptions<
      Types extends SchemaTypes = SchemaTypes,
      ParentShape = unknown,
      Type extends TypeParam<Types> = TypeParam<Types>,
      Nullable extends FieldNullability<Type> = FieldNullability<Type>,
      Args extends InputFieldMap = InputFieldMap,
      ResolveShape = unknown,
      ResolveReturnShape = unknown,
    > {
      /** For a field the gateway computes: the properties of the parent's REST shape its resolver reads. */
      kiboRequires?: readonly RestProperty<ParentShape>[];
    }
  }
}

export class KiboDeclarationsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onTypeConfig(typeConfig: PothosTypeConfig): PothosTypeConfig {
    if (typeConfig.kind !== 'Object') return typeConfig;
    const placeholder = typeConfig.pothosOptions.kiboPlaceholder;
    if (placeholder === undefined) return typeConfig;
    return { ...typeConfig, extensions: { ...typeConfig.extensions, [KIBO_PLACEHOLDER]: placeholder } };
  }

  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    const requires = (fieldConfig.pothosOptions as { kiboRequires?: readonly string[] }).kiboRequires;
    if (requires === undefined) return fieldConfig;
    return { ...fieldConfig, extensions: { ...fieldConfig.extensions, [KIBO_REQUIRES]: requires } };
  }
}

export const KIBO_DECLARATIONS_PLUGIN = 'kiboDeclarations';

SchemaBuilder.registerPlugin(KIBO_DECLARATIONS_PLUGIN, KiboDeclarationsPlugin);
