/** The ticket call's query string, encoded once per projection and kept in a bounded cache. */
import { describe, expect, it } from 'vitest';
import { QuerySuffixes } from '../../src/kibo/query-suffixes.js';

describe('query suffixes', () => {
  it('encodes a projection exactly as URLSearchParams does, and once', () => {
    const suffixes = new QuerySuffixes();
    const fields = 'accessToken,tenant(id,name,sites(id,name)),user(userName) & more=1';
    const suffix = suffixes.for(fields);
    expect(`tenantId=100002${suffix}`).toBe(
      new URLSearchParams({ tenantId: '100002', responseFields: fields }).toString(),
    );
    expect(suffixes.for(fields)).toBe(suffix);
    expect(suffixes.for(undefined)).toBe('');
  });

  it('keeps at most its bound of projections, dropping the oldest', () => {
    const suffixes = new QuerySuffixes(50);
    for (let i = 0; i < 500; i++) suffixes.for(`tenant(id,name${i})`);
    expect(suffixes.size).toBe(50);
    // The newest are still there: asking again does not grow the cache.
    suffixes.for('tenant(id,name499)');
    expect(suffixes.size).toBe(50);
  });
});
