/** The subgraph composes into a supergraph with another team's subgraph, by both composers. */
import { describe, expect, it } from 'vitest';
import { printSubgraphSchema } from '@apollo/subgraph';
import { schema, FEDERATION_LINK } from '../../src/schema/index.js';
import { composeApollo, composeTheGuild, KIBO_SUBGRAPH_SDL } from './supergraph.js';

const urls = { kibo: 'http://kibo.internal/graphql', orders: 'http://orders.internal/graphql' };

describe('composition', () => {
  it('schema/subgraph.graphql is the SDL the code serves, linking a pinned Federation v2 spec', () => {
    expect(KIBO_SUBGRAPH_SDL.trim()).toBe(printSubgraphSchema(schema).trim());
    expect(KIBO_SUBGRAPH_SDL).toContain(`@link(url: "${FEDERATION_LINK}"`);
    expect(FEDERATION_LINK).toMatch(/federation\/v2\.\d+$/);
  });

  it.each([
    ['Tenant', 'id'],
    ['Site', 'id'],
    ['Catalog', 'id'],
    ['AdminUserMasterCatalog', 'id'],
    ['UserProfile', 'userId'],
  ])('%s is an entity keyed by %s', (type, key) => {
    expect(KIBO_SUBGRAPH_SDL).toMatch(new RegExp(`type ${type}\\s+@key\\(fields: "${key}"\\)`));
  });

  it('composes with @apollo/composition without errors or hints', () => {
    const result = composeApollo(urls);
    expect(result.errors ?? []).toEqual([]);
    expect((result.hints ?? []).map((hint) => `${hint.definition.code}: ${hint.message}`)).toEqual([]);
    expect(result.supergraphSdl).toContain('join__graph(name: "kibo", url: "http://kibo.internal/graphql")');
    // Site carries fields from both subgraphs.
    const site = /type Site\b[^}]*\}/.exec(result.supergraphSdl ?? '')?.[0] ?? '';
    expect(site).toContain('orders: [Order!]!');
    expect(site).toContain('primaryCustomDomain: String');
  });

  it('composes with @theguild/federation-composition without errors', () => {
    const result = composeTheGuild(urls);
    expect(result.errors ?? []).toEqual([]);
    expect(result.supergraphSdl).toContain('switchTenant');
  });
});
