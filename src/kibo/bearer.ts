/**
 * The token of an `Authorization: Bearer <token>` header, whatever the scheme's case and the spaces
 * after it; a value without the scheme comes back as it is. Where the gateway compares or derives
 * from a caller's bearer token (the entity cache's keys, the credentials it looks for in Kibo's
 * words and data), it reads the header through this one rule.
 */
export function bearerToken(authorization: string): string {
  return authorization.replace(/^Bearer\s+/i, '');
}
