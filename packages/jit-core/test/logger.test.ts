import { describe, expect, it } from 'vitest';
import { describeError, logServerError, StoreError, type JitLogger } from '../src/index.js';

function recorder() {
  const lines: Array<{ record: Record<string, unknown>; message: string }> = [];
  const logger: JitLogger = { error: (record, message) => void lines.push({ record, message }) };
  return { logger, lines };
}

describe('logging a failed request', () => {
  it('names the whole cause chain in the line and in the record', () => {
    const driver = Object.assign(new Error('SQLITE_ERROR: no such table: jit_users'), {
      code: 'SQLITE_ERROR',
    });
    const { logger, lines } = recorder();
    logServerError(logger, new StoreError('The account store failed during sign-in.', driver), {
      method: 'POST',
      path: '/auth/saml/acme/acs',
      status: 503,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.message).toBe(
      'POST /auth/saml/acme/acs answered 503 STORE_FAILURE: StoreError: The account store failed during sign-in.' +
        ' <- caused by Error: SQLITE_ERROR: no such table: jit_users',
    );
    expect(lines[0]!.record).toMatchObject({
      status: 503,
      code: 'STORE_FAILURE',
      method: 'POST',
      path: '/auth/saml/acme/acs',
      error: { type: 'StoreError', cause: { type: 'Error', code: 'SQLITE_ERROR', message: driver.message } },
    });
  });

  it('keeps only the name, message, code and stack of each error', () => {
    const driver = Object.assign(new Error('duplicate key'), {
      query: 'INSERT INTO jit_users ...',
      parameters: ['s3cret-password'],
      response: { body: 'SAMLResponse=PHNhbWxwOlJlc3BvbnNl' },
    });
    const logged = JSON.stringify(describeError(new Error('wrapped', { cause: driver })));
    expect(logged).toContain('duplicate key');
    expect(logged).not.toContain('s3cret-password');
    expect(logged).not.toContain('PHNhbWxwOlJlc3BvbnNl');
    expect(logged).not.toContain('INSERT INTO');
  });

  it('stops at a cause chain that loops', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    let depth = 0;
    for (let e = describeError(a); e.cause; e = e.cause) depth++;
    expect(depth).toBe(8);
  });
});
