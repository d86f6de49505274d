import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/index.js';

describe('audit event ids (UUIDv7)', () => {
  it('is an RFC 9562 version 7 UUID carrying the time in its first 48 bits', () => {
    const at = new Date('2026-11-23T13:00:00.123Z');
    const id = uuidv7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at.getTime());
  });

  it('increases within one millisecond and across milliseconds, without repeats', () => {
    const at = new Date('2026-11-23T13:00:00.000Z');
    const ids = [
      ...Array.from({ length: 1000 }, () => uuidv7(at)),
      ...Array.from({ length: 10 }, (_, i) => uuidv7(new Date(at.getTime() + 1 + i))),
    ];
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
  });
});
