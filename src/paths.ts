/** The gateway's HTTP paths, shared by the server, cookies and tests. */
export const GRAPHQL_PATH = '/graphql';
/** Liveness: 200 while the process runs (Yoga's health check). */
export const HEALTH_PATH = '/health';
/** Readiness: 200 while the replica takes traffic, 503 from the moment it starts draining. */
export const READY_PATH = '/ready';
