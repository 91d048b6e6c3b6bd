/**
 * What a request's log line says beyond HTTP. The line is written by the listener when the response
 * closes (so it states what the client really got: the status sent, 408, or 499 for a client gone);
 * the GraphQL pipeline notes here, keyed by the Node request, what only it knows: the operation's
 * name, the trace, and Kibo's correlation ids.
 */
import type { TraceLogFields } from './logger.js';

/** Longer names are cut: a log line's size must not be the client's to choose. */
export const MAX_LOGGED_OPERATION_NAME = 100;

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

interface RequestNotes {
  operationName?: string;
  trace?: TraceLogFields;
  /** Filled as the request's Kibo calls complete. */
  kiboCorrelationIds?: readonly string[];
}

/** The fields the notes add to a log line. */
export interface NotedFields extends Partial<TraceLogFields> {
  operationName?: string;
  kiboCorrelationId?: string;
}

const notes = new WeakMap<object, RequestNotes>();

function notesOf(nodeRequest: object): RequestNotes {
  let noted = notes.get(nodeRequest);
  if (!noted) notes.set(nodeRequest, (noted = {}));
  return noted;
}

/** Records the operation name as logged: capped, and only if it is a GraphQL name at all. */
export function noteOperationName(nodeRequest: object, operationName: unknown): void {
  if (operationName === undefined || operationName === null || operationName === '') return;
  notesOf(nodeRequest).operationName = loggableOperationName(operationName);
}

export function noteTrace(nodeRequest: object, trace: TraceLogFields): void {
  notesOf(nodeRequest).trace = trace;
}

export function noteKiboCorrelationIds(nodeRequest: object, ids: readonly string[]): void {
  notesOf(nodeRequest).kiboCorrelationIds = ids;
}

export function notedFields(nodeRequest: object): NotedFields {
  const noted = notes.get(nodeRequest);
  if (!noted) return {};
  return {
    ...(noted.operationName !== undefined && { operationName: noted.operationName }),
    ...noted.trace,
    ...(noted.kiboCorrelationIds?.length && { kiboCorrelationId: noted.kiboCorrelationIds.join(',') }),
  };
}

function loggableOperationName(name: unknown): string {
  if (typeof name !== 'string' || !GRAPHQL_NAME.test(name)) return '(not a GraphQL name)';
  return name.length > MAX_LOGGED_OPERATION_NAME ? `${name.slice(0, MAX_LOGGED_OPERATION_NAME)}…` : name;
}
