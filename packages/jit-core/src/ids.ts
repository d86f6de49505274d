import { randomUUID } from 'node:crypto';

let lastMs = -1;
let counter = 0;
let prefix = '';

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids sort by time. Audit
 * events use it, which lets exports page through millions of rows by id. Within one millisecond a
 * counter in the random bits keeps ids from one process increasing. The random tail (variant
 * included) comes from `randomUUID`, which draws from a buffered entropy pool: one system call
 * per id made `randomBytes` the largest cost of a sign-in.
 */
export function uuidv7(at: Date = new Date()): string {
  const ms = Math.max(at.getTime(), 0);
  if (ms === lastMs) counter = (counter + 1) & 0xfff;
  else {
    lastMs = ms;
    counter = 0;
    const time = ms.toString(16).padStart(12, '0');
    prefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
  }
  // randomUUID(): xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx; keep "-Vxxx-xxxxxxxxxxxx".
  return prefix + (0x1000 | counter).toString(16).slice(1) + randomUUID().slice(18);
}
