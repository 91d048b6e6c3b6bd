/**
 * Trusted documents (persisted operations), with Yoga's own plugin doing the matching:
 *   allow  a request may name a manifest document by id — GraphQL over HTTP's `documentId` or Apollo's
 *          `extensions.persistedQuery.sha256Hash` — or send a full document as before;
 *   only   a full document runs only if `trusted-documents/admission.ts` admits it (a trusted
 *          document's text, a router's `_entities`/`_service` fetch, introspection when enabled);
 *          anything else is refused before parsing, so nothing of it runs and Kibo is not called.
 * A named document is served already parsed, and validated once (its validation is cached on that
 * DocumentNode). Ids not in the manifest are refused with the message Apollo clients look for
 * ("PersistedQueryNotFound"), so an Apollo client in `allow` mode retries with the full query.
 */
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import type { ErrorCode } from '../error-codes.js';
import { admitFullDocument } from '../trusted-documents/admission.js';
import type { TrustedDocuments } from '../trusted-documents/manifest.js';

export const PERSISTED_QUERY_NOT_FOUND: ErrorCode = 'PERSISTED_QUERY_NOT_FOUND';
export const PERSISTED_QUERY_ONLY: ErrorCode = 'PERSISTED_QUERY_ONLY';
const BAD_REQUEST: ErrorCode = 'BAD_REQUEST';

/** As Yoga answers a document that does not parse: 400 to GraphQL-over-HTTP clients, 200 to legacy JSON ones. */
const REJECTED_DOCUMENT = { spec: true, status: 400 };

export type TrustedDocumentsMode = 'off' | 'allow' | 'only';

/** The GraphQL-over-HTTP request parameter naming a persisted document; Yoga must let it through. */
export const DOCUMENT_ID_PARAM = 'documentId';

export interface TrustedDocumentsOptions {
  /** `TRUSTED_DOCUMENTS`: off (default) installs nothing; allow; only. */
  mode: TrustedDocumentsMode;
  /** The loaded manifest (`TRUSTED_DOCUMENTS_MANIFEST`, default schema/trusted-documents.json). */
  trusted: TrustedDocuments;
  /** `INTROSPECTION`: whether `only` still runs introspection-only documents (GraphiQL's schema). */
  introspection: boolean;
  /** `MAX_TOKENS`: how far `only` parses an unknown document to recognise it. */
  maxTokens: number;
}

export function useTrustedDocuments(options: TrustedDocumentsOptions): Plugin[] {
  if (options.mode === 'off') return [];
  const { trusted } = options;
  // Yoga's `allowArbitraryOperations` predicate sees only the request; the document it must judge
  // is kept here by the hook just before it.
  const fullDocuments = new WeakMap<Request, string>();
  const remember: Plugin = {
    onParams({ request, params }) {
      if (typeof params.query === 'string') fullDocuments.set(request, params.query);
    },
  };
  return [
    ...(options.mode === 'only' ? [remember] : []),
    usePersistedOperations({
      allowArbitraryOperations:
        options.mode === 'allow' ||
        ((request: Request) => {
          const query = fullDocuments.get(request);
          return query !== undefined && admitFullDocument(query, options) !== undefined;
        }),
      extractPersistedOperationId: persistedDocumentId,
      getPersistedOperation: (id) => trusted.get(id)?.document ?? null,
      customErrors: {
        notFound: {
          // Apollo's persisted-query link retries with the full document on exactly this message.
          message: 'PersistedQueryNotFound',
          extensions: { code: PERSISTED_QUERY_NOT_FOUND, http: REJECTED_DOCUMENT },
        },
        persistedQueryOnly: {
          message:
            'This gateway runs trusted documents only: send the document id from its manifest (documentId, or extensions.persistedQuery.sha256Hash), not the document.',
          extensions: { code: PERSISTED_QUERY_ONLY, http: REJECTED_DOCUMENT },
        },
        keyNotFound: {
          message: 'Send a GraphQL document (query) or the id of a trusted document (documentId).',
          extensions: { code: BAD_REQUEST, http: { status: 400 } },
        },
      },
    }) as Plugin,
  ];
}

/** GraphQL over HTTP's `documentId`, else Apollo's persisted-query extension (version 1). */
export function persistedDocumentId(params: GraphQLParams): string | null {
  const documentId = (params as GraphQLParams & { [DOCUMENT_ID_PARAM]?: unknown })[DOCUMENT_ID_PARAM];
  if (typeof documentId === 'string') return documentId;
  const persistedQuery = params.extensions?.['persistedQuery'] as
    { version?: unknown; sha256Hash?: unknown } | undefined;
  if (persistedQuery?.version === 1 && typeof persistedQuery.sha256Hash === 'string') return persistedQuery.sha256Hash;
  return null;
}
