/**
 * Every name and key of the cache is derived from the caller's credentials, never the credentials
 * themselves: HKDF-SHA256 turns the bearer token and refresh token into a per-caller secret, and
 * from that secret come the name of the caller's entries (HMAC) and the key that seals each of them
 * (HKDF). Whoever reads the cache — this process's heap or the shared Redis — sees opaque names and
 * sealed bytes; only a request carrying the same credentials finds an entry and can open it. No
 * process-wide secret takes part, so none can be stolen to read the cache.
 */
import { createHmac, hkdfSync } from 'node:crypto';

/** The credentials a call to Kibo carries, as the request gave them. */
export interface CallerCredentials {
  /** The `Authorization` header: `Bearer <token>`. */
  authorization: string;
  refreshToken: string;
}

const SALT = 'kibo-auth-gateway/entity-cache/v1';

/** One caller's derived material; holds no credential, only what HKDF made of it. */
export class CallerKeys {
  /** Names every entry of this caller (all tenants), so a refusal can drop them together. */
  readonly id: string;
  private readonly secret: Buffer;

  constructor(credentials: CallerCredentials) {
    // The scheme's spelling and spacing do not make another caller: `bearer  x` is `Bearer x`.
    const bearer = credentials.authorization.replace(/^Bearer\s+/i, '').trim();
    // JSON keeps the two parts apart: ("ab", "c") and ("a", "bc") derive different secrets.
    const material = JSON.stringify([bearer, credentials.refreshToken.trim()]);
    this.secret = Buffer.from(hkdfSync('sha256', material, SALT, 'caller', 32));
    this.id = this.mac('caller-id');
  }

  /** The name of one entry: the caller's data of one entity type in one tenant's ticket. */
  entryName(tenantId: number, typename: string): string {
    return this.mac(`entry\u0000${tenantId}\u0000${typename}`);
  }

  /** The AES-256-GCM key of that entry; another entry's key opens nothing of this one. */
  sealingKey(tenantId: number, typename: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.secret, SALT, `seal\u0000${tenantId}\u0000${typename}`, 32));
  }

  /** Names one Kibo call in flight for this caller, so identical concurrent misses share it. */
  flightName(tenantId: number, responseFields: string | undefined): string {
    return this.mac(`flight\u0000${tenantId}\u0000${responseFields ?? '\u0000whole'}`);
  }

  private mac(label: string): string {
    return createHmac('sha256', this.secret).update(label).digest('base64url').slice(0, 32);
  }
}
