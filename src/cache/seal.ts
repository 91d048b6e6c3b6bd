/**
 * Entries at rest in the shared tier: AES-256-GCM, a fresh 96-bit nonce per write, and the entry's
 * name as associated data, so a value cannot be moved under another name. Opening fails closed:
 * anything that does not authenticate — tampered, truncated, sealed under another key — reads as
 * nothing, which the cache treats as a miss.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const FORMAT = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + NONCE_BYTES + TAG_BYTES;

/** `format ‖ nonce ‖ tag ‖ ciphertext`. */
export function seal(key: Buffer, name: string, plaintext: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(name));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT]), nonce, cipher.getAuthTag(), ciphertext]);
}

export function open(key: Buffer, name: string, sealed: Buffer): Buffer | undefined {
  if (sealed.length < HEADER_BYTES || sealed[0] !== FORMAT) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + NONCE_BYTES));
    decipher.setAAD(Buffer.from(name));
    decipher.setAuthTag(sealed.subarray(1 + NONCE_BYTES, HEADER_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(HEADER_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}
