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

/**
 * The notes ride on the Node request itself, under a symbol no other code knows: a WeakMap keyed by
 * every request would hold an entry per request until a full collection clears it, work the
 * young-generation collector then repeats for each of them.
 */
const NOTES = Symbol('kibo-auth-gateway.request-notes');

type Noted = object & { [NOTES]?: RequestNotes };

function notesOf(nodeRequest: Noted): RequestNotes {
  return (nodeRequest[NOTES] ??= {});
}

/** Records the operation name as logged: capped, and only if it is a GraphQL name at all. */
export function noteOperationName(nodeRequest: Noted, operationName: unknown): void {
  if (operationName === undefined || operationName === null || operationName === '') return;
  notesOf(nodeRequest).operationName = loggableOperationName(operationName);
}

export function noteTrace(nodeRequest: Noted, trace: TraceLogFields): void {
  notesOf(nodeRequest).trace = trace;
}

export function noteKiboCorrelationIds(nodeRequest: Noted, ids: readonly string[]): void {
  notesOf(nodeRequest).kiboCorrelationIds = ids;
}

/** Adds what was noted of the request to its log line (written into `line`, which is built per request). */
export function addNotedFields(nodeRequest: Noted, line: NotedFields): void {
  const noted = nodeRequest[NOTES];
  if (!noted) return;
  if (noted.operationName !== undefined) line.operationName = noted.operationName;
  if (noted.trace) {
    line.trace_id = noted.trace.trace_id;
    line.span_id = noted.trace.span_id;
  }
  if (noted.kiboCorrelationIds?.length) line.kiboCorrelationId = noted.kiboCorrelationIds.join(',');
}

function loggableOperationName(name: unknown): string {
  if (typeof name !== 'string' || !GRAPHQL_NAME.test(name)) return '(not a GraphQL name)';
  return name.length > MAX_LOGGED_OPERATION_NAME ? `${name.slice(0, MAX_LOGGED_OPERATION_NAME)}…` : name;
}
