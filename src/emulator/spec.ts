/**
 * The OpenAPI document in `schema/` is the emulator's rulebook: parameters and bodies are checked
 * against the spec's own schemas rather than against hand-copied rules, so the two cannot drift.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import type { paths } from '../generated/kibo-rest.js';
import { SCHEMA_FOLDER } from '../schema-folder.js';

export const SPEC_URL = new URL('kibo-openapi.yaml', SCHEMA_FOLDER);
const SPEC_TICKET_PATH: keyof paths = '/platform/adminuser/authtickets/tenants';
/** Where the emulator serves the operation: the spec's server URL is `{baseUrl}/api`. */
export const REFRESH_TICKET_PATH = `/api${SPEC_TICKET_PATH}`;

interface OpenApiParameter {
  name: string;
  in: string;
  schema: object;
}

interface OpenApiDocument {
  paths: Record<string, { put: { parameters: OpenApiParameter[] } }>;
  components: { schemas: Record<string, object> };
}

export interface SpecValidators {
  /** Checks a whole ticket, request body or response alike. */
  ticket: ValidateFunction;
  /** Checks the already-decoded `tenantId` query parameter. */
  tenantId: ValidateFunction;
}

// ajv-formats ships CommonJS with a default export that NodeNext sees as the module namespace.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

export function loadSpec(): OpenApiDocument {
  return parse(readFileSync(SPEC_URL, 'utf8')) as OpenApiDocument;
}

export function compileSpecValidators(spec: OpenApiDocument = loadSpec()): SpecValidators {
  // OpenAPI 3.0 schemas are JSON Schema plus `nullable`, which Ajv understands natively.
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addSchema({ $id: 'kibo-openapi', components: ajvReadyComponents(spec) });

  const operation = spec.paths[SPEC_TICKET_PATH]!.put;
  const tenantIdParameter = operation.parameters.find((parameter) => parameter.name === 'tenantId');
  if (!tenantIdParameter) throw new Error('The spec no longer declares the tenantId parameter');

  return {
    ticket: ajv.getSchema('kibo-openapi#/components/schemas/TenantAdminUserAuthTicket')!,
    tenantId: ajv.compile(tenantIdParameter.schema),
  };
}

/** The spec's `components`, as Ajv compiles them (also generated for the gateway by codegen). */
export function ajvReadyComponents(spec: OpenApiDocument): OpenApiDocument['components'] {
  return withoutUntypedNullable(spec.components);
}

/**
 * OpenAPI 3.0 lets an untyped schema say `nullable: true` (TenantAttribute.value does): it accepts
 * any value, null included, so the flag adds nothing. Ajv rejects `nullable` without `type`, so it
 * is dropped there and kept everywhere else.
 */
function withoutUntypedNullable<T>(node: T): T {
  if (Array.isArray(node)) return node.map(withoutUntypedNullable) as T;
  if (node === null || typeof node !== 'object') return node;
  const entries = Object.entries(node)
    .filter(([key]) => !(key === 'nullable' && !('type' in node) && !('$ref' in node)))
    .map(([key, value]) => [key, withoutUntypedNullable(value)]);
  return Object.fromEntries(entries) as T;
}
