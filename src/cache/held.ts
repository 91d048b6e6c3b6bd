/**
 * What a cache entry holds, as a projection: the REST properties every entity of the entry carries.
 * An entry answers a query only when what it holds covers what the query asks (complete answers
 * only); entities are stored pruned to what is held, so nothing else of Kibo's answer is kept.
 */
import { formatResponseFields, WHOLE_VALUE, type Projection } from '../projection/projection.js';

/** Whether `held` has every property `asked` needs, at every depth. */
export function covers(held: Projection, asked: Projection): boolean {
  if (held.size === 0) return true;
  if (asked.size === 0) return false;
  for (const [name, children] of asked) {
    const have = held.get(name);
    if (have === undefined || !covers(have, children)) return false;
  }
  return true;
}

/** What both hold. A property whole on one side keeps the other side's children. */
export function intersect(a: Projection, b: Projection): Projection {
  if (a.size === 0) return b;
  if (b.size === 0) return a;
  const common = new Map<string, Projection>();
  for (const [name, children] of a) {
    const other = b.get(name);
    if (other === undefined) continue;
    // Both sides list children but share none: the property itself is not held in common.
    const both = intersect(children, other);
    if (both.size > 0 || (children.size === 0 && other.size === 0)) common.set(name, both);
  }
  return common;
}

/**
 * `value` with only the properties `held` names, arrays pruned item by item. A value that has
 * nothing else, at any depth, is returned as it is rather than copied: when Kibo was asked for
 * exactly what is held (switchTenant's projection, a refetch), its answer is stored without a copy.
 * Nothing writes to a value once parsed from Kibo, so the cache and the answer may share it.
 */
export function prune(value: unknown, held: Projection): unknown {
  if (held.size === 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      const pruned = prune(item, held);
      if (pruned !== item) copy ??= value.slice(0, index);
      copy?.push(pruned);
    }
    return copy ?? value;
  }
  const source = value as Record<string, unknown>;
  // Read from the value's own side first (no iterator or entry arrays per object): kept whole
  // while every property is held and unchanged. The first child that changes is pruned once and
  // reused by the copy, so a deep value costs at most two walks of its unchanged parts.
  let whole = true;
  let changed: string | undefined;
  let changedTo: unknown;
  for (const name in source) {
    if (!Object.hasOwn(source, name)) continue;
    const children = held.get(name);
    const child = source[name];
    const pruned = children === undefined ? undefined : prune(child, children);
    if (children === undefined || pruned !== child) {
      whole = false;
      if (children !== undefined) {
        changed = name;
        changedTo = pruned;
      }
      break;
    }
  }
  if (whole) return source;
  const kept: Record<string, unknown> = {};
  for (const [name, children] of held) {
    if (Object.hasOwn(source, name)) kept[name] = name === changed ? changedTo : prune(source[name], children);
  }
  return kept;
}

export function formatHeld(held: Projection): string {
  return formatResponseFields(held);
}

/**
 * Reads a printed projection (`id,sites(id,name)`) back. Only ever given strings this process or
 * another replica printed, but a malformed one (a tampered entry cannot get this far) still
 * throws rather than guessing.
 */
export function parseHeld(printed: string): Projection {
  let position = 0;
  const list = (): Map<string, Projection> => {
    const projection = new Map<string, Projection>();
    for (;;) {
      const start = position;
      while (position < printed.length && /[A-Za-z0-9_]/.test(printed[position]!)) position++;
      if (position === start) throw new Error(`malformed projection at ${position}`);
      const name = printed.slice(start, position);
      let children: Projection = WHOLE_VALUE;
      if (printed[position] === '(') {
        position++;
        children = list();
        if (printed[position++] !== ')') throw new Error(`malformed projection at ${position - 1}`);
      }
      projection.set(name, children);
      if (printed[position] !== ',') return projection;
      position++;
    }
  };
  if (printed === '') return new Map();
  const parsed = list();
  if (position !== printed.length) throw new Error(`malformed projection at ${position}`);
  return parsed;
}
