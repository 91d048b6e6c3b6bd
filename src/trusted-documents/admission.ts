/**
 * Which full documents `TRUSTED_DOCUMENTS=only` still runs, decided from the document alone — never
 * from a header, an origin or anything else the caller controls:
 *   - a trusted document sent as text (any spelling of it: GraphiQL's example, or an Apollo client
 *     retrying with the full query after PersistedQueryNotFound);
 *   - a supergraph router's subgraph fetches: query operations whose root fields are all `_entities`,
 *     `_service` or `__typename` — the subgraph contract, whose queries a router writes per plan and
 *     cannot ship ahead. They read entity data with the caller's own credentials and mint nothing the
 *     caller sees, whoever sends them;
 *   - introspection (root fields `__schema`, `__type`, `__typename`), only when INTROSPECTION allows
 *     it, so GraphiQL can show the schema.
 * Everything else is refused before Yoga parses it. Text that is byte for byte a trusted document
 * is known by its hash alone; anything else takes one parse bounded by `maxTokens` to be recognised.
 */
import { Kind, parse, type DocumentNode } from 'graphql';
import { documentIdOf, normalizedIdOf, sortedPrintOf, tokenCountOf, type TrustedDocuments } from './manifest.js';

const FEDERATION_ROOT_FIELDS = new Set(['_entities', '_service', '__typename']);
const INTROSPECTION_ROOT_FIELDS = new Set(['__schema', '__type', '__typename']);

export interface AdmissionOptions {
  trusted: TrustedDocuments;
  /** Whether introspection-only documents may run (the INTROSPECTION setting). */
  introspection: boolean;
  /** The parse of an unknown document stops after this many tokens (MAX_TOKENS). */
  maxTokens: number;
}

export type Admission = 'trusted' | 'federation' | 'introspection' | undefined;

export function admitFullDocument(query: string, options: AdmissionOptions): Admission {
  if (options.trusted.get(documentIdOf(query))) return 'trusted';
  let document: DocumentNode;
  try {
    document = parse(query, { noLocation: true, maxTokens: options.maxTokens });
  } catch {
    return undefined;
  }
  if (isRespelling(query, document, options.trusted)) return 'trusted';
  if (onlyQueriesOf(document, FEDERATION_ROOT_FIELDS)) return 'federation';
  if (options.introspection && onlyQueriesOf(document, INTROSPECTION_ROOT_FIELDS)) return 'introspection';
  return undefined;
}

/**
 * Whether `document` is another spelling of a trusted document. The normalized id finds the
 * candidate; the sorted prints, string values untouched, must then be equal, as the normalized
 * print also collapses whitespace inside strings. Sorting costs about the cube of inline-fragment
 * nesting (~400 nested fragments under MAX_TOKENS: half a second of CPU), so only a document with
 * the token count of some trusted document — as every spelling of it has — is sorted at all.
 */
function isRespelling(query: string, document: DocumentNode, trusted: TrustedDocuments): boolean {
  if (!trusted.hasTokenCount(tokenCountOf(query, trusted.maxTokenCount))) return false;
  const entry = trusted.get(normalizedIdOf(document));
  return entry !== undefined && sortedPrintOf(document) === sortedPrintOf(entry.document);
}

/**
 * Every operation of the document — whichever one `operationName` picks — is a query whose root
 * selections are plain fields among `allowed` (no root fragments, which could hide other fields).
 */
function onlyQueriesOf(document: DocumentNode, allowed: ReadonlySet<string>): boolean {
  let operations = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) continue;
    if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== 'query') return false;
    operations++;
    for (const selection of definition.selectionSet.selections) {
      if (selection.kind !== Kind.FIELD || !allowed.has(selection.name.value)) return false;
    }
  }
  return operations > 0;
}
