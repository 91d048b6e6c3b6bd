/**
 * Access tokens and JWTs the emulator mints. Each minted pair is accepted as a bearer until it
 * expires, so a client can chain tickets the way it would against Kibo. The registry is bounded:
 * under load the oldest tokens are forgotten first, as an expiring cache would.
 */
import { createHmac, randomBytes } from 'node:crypto';

export interface MintedTokens {
  accessToken: string;
  jwtAccessToken: string;
  expiresAt: Date;
}

const MAX_REMEMBERED = 10_000;

export class TokenRegistry {
  private readonly expiries = new Map<string, number>();
  private readonly signingKey = randomBytes(32);

  constructor(
    private readonly appTokens: ReadonlySet<string>,
    private readonly lifetimeMs: number,
  ) {}

  isValidBearer(token: string, now: Date): boolean {
    if (this.appTokens.has(token)) return true;
    const expiry = this.expiries.get(token);
    if (expiry === undefined) return false;
    if (expiry > now.getTime()) return true;
    this.expiries.delete(token);
    return false;
  }

  mint(subject: string | null, tenantId: number, now: Date): MintedTokens {
    const expiresAt = new Date(now.getTime() + this.lifetimeMs);
    const accessToken = randomBytes(24).toString('base64url');
    const jwtAccessToken = this.signJwt({
      sub: subject ?? 'anonymous',
      tenant: tenantId,
      iat: Math.floor(now.getTime() / 1000),
      exp: Math.floor(expiresAt.getTime() / 1000),
      jti: randomBytes(8).toString('hex'),
    });
    this.remember(accessToken, expiresAt);
    this.remember(jwtAccessToken, expiresAt);
    return { accessToken, jwtAccessToken, expiresAt };
  }

  private remember(token: string, expiresAt: Date): void {
    this.expiries.set(token, expiresAt.getTime());
    if (this.expiries.size > MAX_REMEMBERED) {
      const oldest = this.expiries.keys().next().value;
      if (oldest !== undefined) this.expiries.delete(oldest);
    }
  }

  private signJwt(claims: Record<string, unknown>): string {
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
    const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
    const signature = createHmac('sha256', this.signingKey).update(unsigned).digest('base64url');
    return `${unsigned}.${signature}`;
  }
}
