/**
 * Where a CPU profile's time went, by owner: each npm package, each folder of our own `src/`,
 * garbage collection, and Node itself. Node internals (`node:` frames, native code) are charged to
 * the nearest caller that has an owner, so "undici" includes the socket writes undici asked for.
 * Frames in the bundled server (`deploy/bundle.ts`) are traced back through its source map to the
 * package or `src/` file they came from, so the bundle is not one opaque owner.
 * Used by `npm run bench -- --profile`; also runnable alone: `tsx test/bench/profile-summary.ts FILE`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Node's own modules by their top-level name (`node:_http_server` → `node: _http_server`). */
function nodeModuleOf(url: string): string {
  return `node: ${
    url
      .slice('node:'.length)
      .replace(/^internal\//, '')
      .split('/')[0]
  }`;
}

export interface ProfileShare {
  owner: string;
  ms: number;
  share: number;
}

const sourceMaps = new Map<string, TraceMap | undefined>();

/** The map written beside a bundled file, read once; undefined for files without one. */
function sourceMapOf(url: string): TraceMap | undefined {
  if (!url.startsWith('file://')) return undefined;
  if (!sourceMaps.has(url)) {
    const mapPath = `${fileURLToPath(url)}.map`;
    sourceMaps.set(url, existsSync(mapPath) ? new TraceMap(readFileSync(mapPath, 'utf8'), mapPath) : undefined);
  }
  return sourceMaps.get(url);
}

/** A frame as its source: the original file and function where a source map knows them. */
function originalFrame(frame: CallFrame): CallFrame {
  const map = sourceMapOf(frame.url);
  if (!map || frame.lineNumber < 0) return frame;
  const position = originalPositionFor(map, { line: frame.lineNumber + 1, column: Math.max(frame.columnNumber, 0) });
  if (!position.source) return frame;
  // Sources are relative to the map's folder; the owner rules below read absolute paths.
  const source = resolve(dirname(fileURLToPath(frame.url)), position.source);
  return { ...frame, url: `file://${source}`, lineNumber: position.line - 1 };
}

/** The owner of a frame, or undefined for frames charged to their caller. */
function ownerOf(frame: CallFrame): string | undefined {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'V8/native (program)';
  if (!url || url.startsWith('node:')) return undefined;
  const nodeModules = url.lastIndexOf('/node_modules/');
  if (nodeModules !== -1) {
    const [scope, name] = url.slice(nodeModules + '/node_modules/'.length).split('/');
    return scope!.startsWith('@') ? `${scope}/${name}` : scope!;
  }
  const src = url.indexOf('/src/');
  if (src !== -1) {
    const [folder, file] = url.slice(src + '/src/'.length).split('/');
    return file ? `ours: src/${folder}` : `ours: src/${folder!.replace(/\.js$/, '')}`;
  }
  return url.includes('/test/bench/') ? 'bench harness' : 'other';
}

/**
 * Shares of busy time (idle excluded), largest first, counting only samples taken at least
 * `skipMs` after the profile started (to leave out start-up and warm-up).
 */
export function summarizeProfile(
  path: string,
  skipMs = 0,
): { busyMs: number; shares: ProfileShare[]; functions: ProfileShare[] } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  // Traced through a source map once per node: both tables below read it.
  const frames = new Map<number, CallFrame>();
  const frameOf = (id: number): CallFrame => {
    let frame = frames.get(id);
    if (!frame) frames.set(id, (frame = originalFrame(byId.get(id)!.callFrame)));
    return frame;
  };
  const ownerCache = new Map<number, string>();
  const resolveOwner = (id: number): string => {
    const cached = ownerCache.get(id);
    if (cached) return cached;
    const node = byId.get(id)!;
    const own = ownerOf(frameOf(id));
    const up = parent.get(id);
    // Frames without an owner of their own are charged to their caller; at the top of the stack
    // (event-loop callbacks such as socket reads), to the Node module they run in.
    let owner = own ?? (up === undefined ? '' : resolveOwner(up));
    if (!owner) owner = node.callFrame.url.startsWith('node:') ? nodeModuleOf(node.callFrame.url) : '';
    ownerCache.set(id, owner);
    return owner;
  };

  // Self time by function, named by its original file and line: where to look first.
  const functionName = (id: number): string => {
    const frame = frameOf(id);
    const file = frame.url.replace(/^.*\/node_modules\//, '').replace(/^.*\/(src|test)\//, '$1/');
    return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
  };
  const totals = new Map<string, number>();
  const selfTimes = new Map<string, number>();
  let elapsedMs = 0;
  profile.samples.forEach((id, index) => {
    const deltaMs = (profile.timeDeltas[index] ?? 0) / 1000;
    elapsedMs += deltaMs;
    if (elapsedMs < skipMs) return;
    const owner = resolveOwner(id) || 'native (no JS caller)';
    totals.set(owner, (totals.get(owner) ?? 0) + deltaMs);
    if (owner !== 'idle') {
      const name = functionName(id);
      selfTimes.set(name, (selfTimes.get(name) ?? 0) + deltaMs);
    }
  });
  totals.delete('idle');
  const busyMs = [...totals.values()].reduce((sum, ms) => sum + ms, 0);
  const ranked = (byOwner: Map<string, number>): ProfileShare[] =>
    [...byOwner.entries()].map(([owner, ms]) => ({ owner, ms, share: ms / busyMs })).sort((a, b) => b.ms - a.ms);
  return { busyMs, shares: ranked(totals), functions: ranked(selfTimes) };
}

export function printProfileSummary(path: string, skipMs = 0, top = 18): void {
  const { busyMs, shares, functions } = summarizeProfile(path, skipMs);
  const table = (heading: string, rows: ProfileShare[]) => {
    console.log(`\n| ${heading} | ms | share |\n| --- | ---: | ---: |`);
    for (const { owner, ms, share } of rows.slice(0, top))
      console.log(`| ${owner} | ${ms.toFixed(0)} | ${(share * 100).toFixed(1)} % |`);
  };
  console.log(`\n${path}: ${busyMs.toFixed(0)} ms busy`);
  table('owner', shares);
  table('function (self time)', functions);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/test\/bench\//, '/test/bench/'))) {
  const skipMs = Number(process.env.SKIP_MS ?? 0);
  for (const file of process.argv.slice(2)) printProfileSummary(file, skipMs);
}
