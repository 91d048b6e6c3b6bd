/**
 * Where entities live in a ticket, for the entity cache: every path from the ticket down to a type
 * (`tenant` and `availableTenants` for tenants, `tenant.sites` and `availableTenants.sites` for
 * sites, …), derived from the entity table, and the cache sets a fetched ticket yields. Only these
 * paths are read, and each entity is pruned to what is held, so a set carries entity data and
 * nothing else of the ticket (what a value held whole carries is checked before storing:
 * cached-entities.ts).
 */
import { covers, intersect, prune } from '../cache/held.js';
import type { EntitySet } from '../cache/entity-set.js';
import { WHOLE_VALUE, type Projection } from '../projection/projection.js';

/** One row of the entity table: the type, its key, and the properties of its parent type holding it. */
export interface EntityRow {
  typename: string;
  key: string;
  parent: string;
  holders: readonly string[];
}

export class EntityPaths {
  private readonly paths = new Map<string, string[][]>();
  private readonly keys = new Map<string, string>();
  /** switchTenant's seeding plans, by the projection a ticket was fetched with (see seedSetsOf). */
  private readonly seedPlans = new WeakMap<Projection, TypePlan[]>();

  constructor(rows: readonly EntityRow[], ticketType: string) {
    const byType = new Map(rows.map((row) => [row.typename, row]));
    const pathsOf = (typename: string): string[][] => {
      const row = byType.get(typename)!;
      const above = row.parent === ticketType ? [[]] : pathsOf(row.parent);
      // In table order, parents first: the order in which the first copy of an entity wins.
      return above.flatMap((path) => row.holders.map((holder) => [...path, holder]));
    };
    for (const row of rows) {
      this.paths.set(row.typename, pathsOf(row.typename));
      this.keys.set(row.typename, row.key);
    }
  }

  /**
   * The sets of `types` in a ticket fetched with `fetched` (the projection asked of Kibo, or a
   * superset of it). A type is held at what every fetched path to it holds, capped by the type's
   * entry in `types` when one is given; it is complete when every path to it was fetched. A type
   * none of whose paths was fetched, or whose key was not, yields no set.
   */
  setsOf(
    ticket: object,
    fetched: Projection,
    types: ReadonlyMap<string, Projection | undefined>,
  ): Map<string, EntitySet> {
    return this.collect(ticket, this.plan(fetched, types));
  }

  /**
   * The sets of every type in a ticket switchTenant fetched with `fetched`. Which paths were
   * fetched and what each type holds depend on `fetched` alone, so they are worked out once per
   * projection object (the caller hands the same one for the same responseFields) and only the
   * entities are read per ticket.
   */
  seedSetsOf(ticket: object, fetched: Projection): Map<string, EntitySet> {
    let plan = this.seedPlans.get(fetched);
    if (!plan) {
      plan = this.plan(fetched, new Map([...this.paths.keys()].map((typename) => [typename, undefined])));
      this.seedPlans.set(fetched, plan);
    }
    return this.collect(ticket, plan);
  }

  /** Per type: the fetched paths to it, what it is held at, and whether every path was fetched. */
  private plan(fetched: Projection, types: ReadonlyMap<string, Projection | undefined>): TypePlan[] {
    const plans: TypePlan[] = [];
    for (const [typename, cap] of types) {
      const paths = this.paths.get(typename);
      const key = this.keys.get(typename);
      if (!paths || !key) continue;
      const reached = paths.flatMap((path) => {
        const at = projectionAt(fetched, path);
        return at ? [{ path, at }] : [];
      });
      if (reached.length === 0) continue;
      const held = cap ?? reached.map(({ at }) => at).reduce(intersect);
      if (!covers(held, new Map([[key, WHOLE_VALUE]]))) continue;
      plans.push({
        typename,
        key,
        held,
        paths: reached.map(({ path }) => path),
        complete: reached.length === paths.length,
      });
    }
    return plans;
  }

  private collect(ticket: object, plans: readonly TypePlan[]): Map<string, EntitySet> {
    const sets = new Map<string, EntitySet>();
    for (const { typename, key, held, paths, complete } of plans) {
      // The first copy of an entity wins; each is pruned to what the type holds as it is found.
      const entities = new Map<string, object>();
      for (const path of paths) addEntitiesAt(ticket, path, 0, { key, held, entities });
      sets.set(typename, { held, complete, entities });
    }
    return sets;
  }
}

interface TypePlan {
  typename: string;
  key: string;
  held: Projection;
  paths: readonly (readonly string[])[];
  complete: boolean;
}

/** What `fetched` asks at the end of `path`; whole once a whole value is crossed; undefined if not asked. */
function projectionAt(fetched: Projection, path: readonly string[]): Projection | undefined {
  let at = fetched;
  for (const property of path) {
    if (at.size === 0) return WHOLE_VALUE;
    const next = at.get(property);
    if (next === undefined) return undefined;
    at = next;
  }
  return at;
}

/** Where the entities of one type are gathered: by the string of their key, pruned to `held`. */
interface Gathering {
  key: string;
  held: Projection;
  entities: Map<string, object>;
}

/**
 * Adds the objects at the end of `path` (from `depth` on) to the gathering, lists flattened on the
 * way: a walk without the intermediate arrays, since every switchTenant makes it.
 */
function addEntitiesAt(value: unknown, path: readonly string[], depth: number, gathering: Gathering): void {
  if (value === null || typeof value !== 'object') return;
  if (depth === path.length) {
    const id = (value as Record<string, unknown>)[gathering.key];
    if (id === null || id === undefined) return;
    const name = String(id);
    if (!gathering.entities.has(name)) gathering.entities.set(name, prune(value, gathering.held) as object);
    return;
  }
  const child = (value as Record<string, unknown>)[path[depth]!];
  if (!Array.isArray(child)) return addEntitiesAt(child, path, depth + 1, gathering);
  for (const item of child) addEntitiesAt(item, path, depth + 1, gathering);
}
