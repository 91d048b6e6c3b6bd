/**
 * A projection is the tree of REST properties a query needs. It prints as Kibo's `responseFields`,
 * e.g. `accessToken,tenant(id,name)`. Children are printed in name order, so the same needs
 * always print the same string, whatever order the query listed them in.
 */

/** REST property → the properties needed beneath it; an empty map asks for the value whole. */
export type Projection = ReadonlyMap<string, Projection>;

export const WHOLE_VALUE: Projection = new Map();

export function formatResponseFields(projection: Projection): string {
  const parts: string[] = [];
  for (const name of [...projection.keys()].sort()) {
    const children = projection.get(name)!;
    parts.push(children.size === 0 ? name : `${name}(${formatResponseFields(children)})`);
  }
  return parts.join(',');
}

/** Both projections' needs: a property asked for whole in either stays whole. */
export function mergeProjections(a: Projection, b: Projection): Projection {
  const merged = new Map(a);
  for (const [name, children] of b) {
    const existing = merged.get(name);
    if (existing === undefined) merged.set(name, children);
    else if (existing.size === 0 || children.size === 0) merged.set(name, WHOLE_VALUE);
    else merged.set(name, mergeProjections(existing, children));
  }
  return merged;
}
