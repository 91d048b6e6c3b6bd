/**
 * What a request's log line says beyond HTTP. The line is written by the listener when the response
 * closes (so it states what the client really got: the status sent, 408, or 499 for a client gone);
 * the GraphQL pipeline only knows the operation's name, and notes it here, keyed by the Node request.
 */

/** Longer names are cut: a log line's size must not be the client's to choose. */
export const MAX_LOGGED_OPERATION_NAME = 100;

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

const notes = new WeakMap<object, { operationName: string }>();

/** Records the operation name as logged: capped, and only if it is a GraphQL name at all. */
export function noteOperationName(nodeRequest: object, operationName: unknown): void {
  if (operationName === undefined || operationName === null || operationName === '') return;
  notes.set(nodeRequest, { operationName: loggableOperationName(operationName) });
}

export function notedOperationName(nodeRequest: object): string | undefined {
  return notes.get(nodeRequest)?.operationName;
}

function loggableOperationName(name: unknown): string {
  if (typeof name !== 'string' || !GRAPHQL_NAME.test(name)) return '(not a GraphQL name)';
  return name.length > MAX_LOGGED_OPERATION_NAME ? `${name.slice(0, MAX_LOGGED_OPERATION_NAME)}…` : name;
}
