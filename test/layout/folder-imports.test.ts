/**
 * The layout's one rule: no folder of src/ imports another that imports it back, directly or round
 * a longer loop. Imports are read from the sources (static, side-effect, re-exports and dynamic,
 * type-only ones included: they couple the folders as much as any other), and each file directly in
 * src/ counts as a folder of its own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
/** `from './x.js'`, `import './x.js'` and `import('./x.js')`: every way a module names a relative one. */
const IMPORT = /\b(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `schema` for src/schema/…, the file's own name for a file directly in src/. */
function folderOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0]! : parts[0]!.replace(/\.[jt]s$/, '');
}

/** Folder → the folders its files import (itself excluded; imports from outside src/ ignored). */
export function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = resolve(dirname(file), match[1]!);
      if (relative(SRC, target).startsWith('..')) continue;
      const to = folderOf(target);
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

/** One cycle of the graph, as the folders round it, or undefined when there is none. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('src/ folder imports', () => {
  const graph = folderGraph();

  it('reads the imports it judges (the folders and the edges the layout is known to have)', () => {
    expect(graph.get('schema')).toContain('requests');
    expect(graph.get('requests')).toContain('projection');
    expect(graph.get('plugins')).toContain('requests');
  });

  it('has no two folders importing each other', () => {
    const pairs = [...graph].flatMap(([from, tos]) =>
      [...tos].filter((to) => from < to && graph.get(to)?.has(from)).map((to) => `${from} ⇄ ${to}`),
    );
    expect(pairs).toEqual([]);
  });

  it('has no longer import loop between folders either', () => {
    expect(findCycle(graph)).toBeUndefined();
  });
});
