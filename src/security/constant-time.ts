import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Hashing both sides first gives equal-length buffers whatever was sent, so timingSafeEqual never
 * throws and the time spent does not depend on the presented length.
 */
export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(secretDigest(presented), secretDigest(expected));
}

export function secretDigest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
