/**
 * The federation entities this subgraph owns, declared once: each row names the type, the property
 * that keys it, and where it lives in a ticket (the type it is found in and that type's properties
 * holding it). The row registers the entity with `asEntity`, and the same rows drive the projection
 * asked of Kibo and the index that finds references in the answer (see requests/entity-loader.ts),
 * so adding an entity is one line here. Keys and holders are checked against the REST shapes.
 */
import type { ObjectRef } from '@pothos/core';
import type { Selection } from '@pothos/plugin-federation';
import { builder } from '../builder.js';
import type { GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import { createEntityResolver, type EntityDeclaration } from '../requests/entity-loader.js';
import { checkingRepresentations, createRepresentationCheck } from '../requests/entity-representations.js';
import { AdminUserMasterCatalog, Catalog } from './catalog.js';
import { Site } from './site.js';
import { Tenant } from './tenant.js';
import { TenantAdminUserAuthTicket } from './ticket.js';
import { UserProfile } from './user-profile.js';

const ENTITIES: readonly EntityDeclaration[] = [
  entity(Tenant, 'id', TenantAdminUserAuthTicket, ['tenant', 'availableTenants']),
  entity(Site, 'id', Tenant, ['sites']),
  entity(AdminUserMasterCatalog, 'id', Tenant, ['masterCatalogs']),
  entity(Catalog, 'id', AdminUserMasterCatalog, ['catalogs']),
  entity(UserProfile, 'userId', TenantAdminUserAuthTicket, ['user']),
];

const resolveEntity = createEntityResolver(ENTITIES, TenantAdminUserAuthTicket.name);

/** Where each entity lives in a ticket; switchTenant seeds the entity cache with it. */
export const ENTITY_PATHS = resolveEntity.paths;

/**
 * The built schema with each `_entities` representation checked against this table before it is
 * resolved (federation's own resolver throws for the whole list on one unknown `__typename`).
 */
export function withCheckedRepresentations(schema: GraphQLSchema): GraphQLSchema {
  const field = schema.getQueryType()?.getFields()._entities;
  if (!field?.resolve) throw new Error('The schema has no _entities field to guard');
  field.resolve = checkingRepresentations(
    field.resolve as Parameters<typeof checkingRepresentations>[0],
    createRepresentationCheck(ENTITIES, schema),
  ) as GraphQLFieldResolver<unknown, unknown>;
  return schema;
}

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/** The properties of `Parent` that hold a `Child` or a list of them. */
type HoldersOf<Parent, Child> = {
  [Property in keyof Parent & string]-?: NonNullable<Parent[Property]> extends Child | readonly Child[]
    ? Property
    : never;
}[keyof Parent & string];

/** Registers one entity with federation and returns its row for the table. */
function entity<Shape extends object, Key extends keyof Shape & string, ParentShape>(
  ref: ObjectRef<Types, Shape>,
  key: Key,
  parent: ObjectRef<Types, ParentShape>,
  holders: readonly HoldersOf<ParentShape, Shape>[],
): EntityDeclaration {
  builder.asEntity(ref, {
    // A one-property key: its selection is the property's name.
    key: builder.selection<Pick<Shape, Key>>(key as never) as Selection<Pick<Shape, Key>>,
    // Entities are read whole from the ticket, so the shape found is the type's own REST shape.
    resolveReference: (reference, context, info) =>
      resolveEntity(context, info, ref.name, reference[key]) as Promise<Shape | null>,
  });
  return { typename: ref.name, key, parent: parent.name, holders };
}
