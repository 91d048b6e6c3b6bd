/**
 * The trusted-documents manifest: `{ "sha256:<hex>": "<document>" }`, as GraphQL Code Generator's
 * client preset writes it (`persistedDocuments: true`) and `npm run codegen` writes
 * `schema/trusted-documents.json`. Each key is the SHA-256 of its document's exact text; the text is
 * the preset's normalized print (`printExecutableGraphQLDocument`: definitions and selections sorted
 * by name, whitespace collapsed), so the same operation always has the same id, however a team
 * formats it.
 *
 * Loaded once at start: every id is checked against its text, every document parsed and validated
 * against the schema, and a manifest that fails any check stops the process (a trusted document the
 * schema rejects is a deployment mistake, not a request error). Requests then look documents up by
 * id and get the parsed DocumentNode, never parsing or hashing them again.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { printExecutableGraphQLDocument, sortExecutableDocument } from '@graphql-tools/documents';
import {
  getOperationAST,
  Kind,
  Lexer,
  parse,
  print,
  Source,
  TokenKind,
  validate,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import { SCHEMA_FOLDER } from '../schema-folder.js';

/** The manifest `npm run codegen` writes; shipped with the build (`dist/schema/`). */
export const DEFAULT_MANIFEST_URL = new URL('trusted-documents.json', SCHEMA_FOLDER);

/** The GraphQL-over-HTTP persisted-documents prefix for a SHA-256 document id. */
const SHA256_PREFIX = 'sha256:';

export interface TrustedDocument {
  /** `sha256:<hex>`, the manifest key (GraphQL over HTTP's `documentId`). */
  id: string;
  /** The bare hex digest (Apollo's `extensions.persistedQuery.sha256Hash`). */
  sha256: string;
  /** The document exactly as the manifest holds it. */
  text: string;
  /** Parsed once, validated against the schema once; shared by every request that names it. */
  document: DocumentNode;
  /** The name of its (single) operation, for logs and the benchmark. */
  operationName: string | undefined;
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** SHA-256 of a document's text, as the manifest's keys are made: `sha256:<hex>`. */
export function documentIdOf(text: string): string {
  return SHA256_PREFIX + createHash('sha256').update(text).digest('hex');
}

/** The id of the normalized form of a parsed document: equal for any two spellings of one operation. */
export function normalizedIdOf(document: DocumentNode): string {
  return documentIdOf(printExecutableGraphQLDocument(document));
}

/**
 * The sorted print with string values kept as they are: what the normalized print is before it
 * collapses whitespace, inside strings too ("a  b" and "a b" print alike there, but are not the same
 * value). Two documents with the same sorted print are the same operation.
 */
export function sortedPrintOf(document: DocumentNode): string {
  return print(sortExecutableDocument(document));
}

/**
 * Lexical tokens in `text` (comments, whitespace and commas are not tokens), counting no further
 * than `stopAfter + 1`. Any two spellings of one document have the same count. Text that does not
 * lex throws the lexer's GraphQLError.
 */
export function tokenCountOf(text: string, stopAfter = Infinity): number {
  const lexer = new Lexer(new Source(text));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF && count <= stopAfter) count++;
  return count;
}

export class TrustedDocuments {
  private readonly byDigest = new Map<string, TrustedDocument>();
  private readonly tokenCounts = new Set<number>();
  /** The token count of the longest trusted document. */
  readonly maxTokenCount: number = 0;

  constructor(documents: Iterable<TrustedDocument>) {
    for (const entry of documents) {
      this.byDigest.set(entry.sha256, entry);
      const tokens = tokenCountOf(entry.text);
      this.tokenCounts.add(tokens);
      this.maxTokenCount = Math.max(this.maxTokenCount, tokens);
    }
  }

  /** Whether some trusted document has exactly this many tokens (as any spelling of it has). */
  hasTokenCount(count: number): boolean {
    return this.tokenCounts.has(count);
  }

  /** By `sha256:<hex>` or bare hex (either request shape may carry either form); undefined when unknown. */
  get(id: string): TrustedDocument | undefined {
    const digest = id.startsWith(SHA256_PREFIX) ? id.slice(SHA256_PREFIX.length) : id;
    return this.byDigest.get(digest.toLowerCase());
  }

  get size(): number {
    return this.byDigest.size;
  }

  [Symbol.iterator](): IterableIterator<TrustedDocument> {
    return this.byDigest.values();
  }
}

/** The raw `id → text` entries of a manifest file, with its shape checked (ids not yet verified). */
export function readManifestFile(path: string | URL): Record<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ManifestError(`cannot read the manifest ${String(path)}: ${(error as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new ManifestError(`${String(path)} must be a JSON object of "sha256:<hex>": "<document>" entries`);
  for (const [id, text] of Object.entries(raw)) {
    if (typeof text !== 'string') throw new ManifestError(`${String(path)}: the entry ${id} is not a string`);
  }
  return raw as Record<string, string>;
}

/** Reads, verifies, parses and validates a manifest; throws ManifestError naming the first bad entry. */
export function loadTrustedDocuments(path: string | URL, schema: GraphQLSchema): TrustedDocuments {
  const entries = readManifestFile(path);
  const documents: TrustedDocument[] = [];
  for (const [id, text] of Object.entries(entries)) {
    if (!/^sha256:[0-9a-f]{64}$/.test(id))
      throw new ManifestError(`${String(path)}: "${id}" is not a sha256:<64 hex digits> id`);
    // A key that is not the hash of its text would let one id stand for another document.
    if (documentIdOf(text) !== id)
      throw new ManifestError(`${String(path)}: ${id} is not the SHA-256 of its document; regenerate the manifest`);
    let document: DocumentNode;
    try {
      document = parse(text, { noLocation: true });
    } catch (error) {
      throw new ManifestError(`${String(path)}: ${id} does not parse: ${(error as Error).message}`);
    }
    const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    if (operations.length !== 1)
      throw new ManifestError(`${String(path)}: ${id} must hold exactly one operation, not ${operations.length}`);
    const errors = validate(schema, document);
    if (errors.length)
      throw new ManifestError(
        `${String(path)}: ${id} does not validate against the schema: ${errors.map((e) => e.message).join('; ')}`,
      );
    documents.push({
      id,
      sha256: id.slice(SHA256_PREFIX.length),
      text,
      document,
      operationName: getOperationAST(document)?.name?.value,
    });
  }
  return new TrustedDocuments(documents);
}
