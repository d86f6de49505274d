import { randomBytes } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids sort by time. Audit
 * events use it, which lets exports page through millions of rows by id. Within one millisecond a
 * counter in the random bits keeps ids from one process increasing.
 */
export function uuidv7(at: Date = new Date()): string {
  const ms = Math.max(at.getTime(), 0);
  if (ms === lastMs) counter = (counter + 1) & 0xfff;
  else {
    lastMs = ms;
    counter = 0;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
