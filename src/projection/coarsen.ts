/**
 * Keeps `responseFields` within a URL budget. When a projection prints too long, the deepest level
 * is folded into its parents — each parent is then asked for whole — until it fits. The answer
 * stays right (Kibo sends more, never less); at worst the projection is dropped and the full ticket
 * is asked for.
 */
import { formatResponseFields, WHOLE_VALUE, type Projection } from './projection.js';

/** `undefined` means: send no responseFields at all. */
export function fitResponseFields(
  projection: Projection,
  fits: (responseFields: string) => boolean,
): string | undefined {
  let current = projection;
  for (let depth = depthOf(current); ; depth--) {
    const printed = formatResponseFields(current);
    if (fits(printed)) return printed;
    if (depth <= 1) return undefined;
    // The deepest properties sit at index depth - 1; their parents, at depth - 2, become whole.
    current = foldAt(current, depth - 2);
  }
}

function depthOf(projection: Projection): number {
  let deepest = 0;
  for (const children of projection.values()) deepest = Math.max(deepest, depthOf(children));
  return projection.size === 0 ? 0 : deepest + 1;
}

/** The same tree, with every property at `index` (0: the ticket's own) asked for whole. */
function foldAt(projection: Projection, index: number): Projection {
  const folded = new Map<string, Projection>();
  for (const [name, children] of projection) folded.set(name, index === 0 ? WHOLE_VALUE : foldAt(children, index - 1));
  return folded;
}
