/**
 * Kibo's `responseFields` syntax, as the emulator reads it: a comma list of property names, each
 * optionally followed by a parenthesised list for its children, e.g.
 * `accessToken,tenant(id,name,sites(id,name))`. A name without children keeps the whole value.
 */

/** Property name → its own children, or `null` to keep the value whole. */
export type FieldSelection = Map<string, FieldSelection | null>;

export class ResponseFieldsSyntaxError extends Error {
  constructor(
    readonly input: string,
    readonly position: number,
    problem: string,
  ) {
    super(`responseFields is malformed at position ${position}: ${problem}`);
    this.name = 'ResponseFieldsSyntaxError';
  }
}

const NAME_CHAR = /[A-Za-z0-9_]/;
const MAX_DEPTH = 32;

export function parseResponseFields(input: string): FieldSelection {
  let position = 0;

  const fail = (problem: string): never => {
    throw new ResponseFieldsSyntaxError(input, position, problem);
  };
  const skipSpaces = () => {
    while (input[position] === ' ') position++;
  };

  const readName = (): string => {
    skipSpaces();
    const start = position;
    while (position < input.length && NAME_CHAR.test(input[position]!)) position++;
    if (position === start)
      fail(
        input[position] === undefined
          ? 'expected a field name, found the end'
          : `expected a field name, found "${input[position]}"`,
      );
    const name = input.slice(start, position);
    skipSpaces();
    return name;
  };

  const readList = (depth: number): FieldSelection => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    const selection: FieldSelection = new Map();
    for (;;) {
      const name = readName();
      let children: FieldSelection | null = null;
      if (input[position] === '(') {
        position++;
        children = readList(depth + 1);
        if (input[position] !== ')') fail('expected ")"');
        position++;
        skipSpaces();
      }
      selection.set(name, mergeSelections(selection.get(name), children));
      if (input[position] !== ',') return selection;
      position++;
    }
  };

  const selection = readList(0);
  if (position !== input.length) fail(input[position] === ')' ? 'unbalanced ")"' : `unexpected "${input[position]}"`);
  return selection;
}

/** `a` and `a(b)` together mean all of `a`; `a(b)` and `a(c)` mean `a(b,c)`. */
function mergeSelections(
  existing: FieldSelection | null | undefined,
  added: FieldSelection | null,
): FieldSelection | null {
  if (existing === undefined) return added;
  if (existing === null || added === null) return null;
  const merged: FieldSelection = new Map(existing);
  for (const [name, children] of added) merged.set(name, mergeSelections(merged.get(name), children));
  return merged;
}

/** Keeps only the selected properties, recursively; lists are filtered element by element. */
export function applyResponseFields(value: unknown, selection: FieldSelection): unknown {
  if (Array.isArray(value)) return value.map((item) => applyResponseFields(item, selection));
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const [name, children] of selection) {
    if (!(name in source)) continue;
    result[name] = children === null ? source[name] : applyResponseFields(source[name], children);
  }
  return result;
}
