/** The gateway's HTTP paths, shared by the server, cookies and tests. */
export const GRAPHQL_PATH = '/graphql';
export const HEALTH_PATH = '/health';
