/**
 * Yoga caches parsed documents and parse errors by the query text a client sends. Its default
 * caches count entries (1,024 each) but not their weight, and a parsed document weighs ~55 times
 * its text (graphql-js keeps every token): 1,024 distinct 10 KB documents — each parsed and cached
 * before validation refuses it — would hold ~500 MiB. These caches bound the text they hold instead,
 * which bounds the documents too.
 */
import type { DocumentNode } from 'graphql';
import type { YogaServerOptions } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';

/** Characters of query text each cache may hold (parsed: ~55 bytes of heap per character). */
export const PARSER_CACHE_MAX_CHARS = 1_000_000;
const MAX_ENTRIES = 1_024;
/** Yoga's own expiry, kept. */
const TTL_MS = 60 * 60 * 1000;

export interface BoundedParserCache {
  options: NonNullable<Exclude<YogaServerOptions<object, object>['parserAndValidationCache'], boolean>>;
  /** Characters of query text held now, documents and errors together; for tests of the bound. */
  heldChars(): number;
}

export function boundedParserCache(): BoundedParserCache {
  const bounded = <T extends {}>() =>
    new LRUCache<string, T>({
      max: MAX_ENTRIES,
      ttl: TTL_MS,
      maxSize: PARSER_CACHE_MAX_CHARS,
      sizeCalculation: (_value, key) => Math.max(1, key.length),
    });
  const documentCache = bounded<DocumentNode>();
  const errorCache = bounded<object>();
  // Counted key by key rather than read from calculatedSize, so the count holds without the bound.
  const chars = (cache: { keys(): IterableIterator<string> }) => {
    let held = 0;
    for (const key of cache.keys()) held += key.length;
    return held;
  };
  return {
    options: { documentCache, errorCache },
    heldChars: () => chars(documentCache) + chars(errorCache),
  };
}
