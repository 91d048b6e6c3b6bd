/** The Pothos SchemaBuilder and its configuration; types register themselves from src/schema/. */
import SchemaBuilder from '@pothos/core';
import DirectivePlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import { KIBO_DECLARATIONS_PLUGIN } from './projection/declarations-plugin.js';
import type { GatewayContext } from './requests/context.js';

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  // Spec properties are non-null unless the spec marks them `nullable`, so every exception is written out.
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  defaultFieldNullability: false,
  // Federation (entities, _service, _entities) needs the directives plugin to print @key and @link.
  // The projection's declarations (`kiboRequires`, `kiboPlaceholder`) as typed options.
  plugins: [DirectivePlugin, FederationPlugin, KIBO_DECLARATIONS_PLUGIN],
});
