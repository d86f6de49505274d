import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError, ServerBusyError } from '@jit-sso/core';
import { LoginAdmission } from '../src/index.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('LoginAdmission', () => {
  it('handles at most `limit` logins at once and lets the others in, in arrival order', async () => {
    const admission = new LoginAdmission({ limit: 2 });
    const order: number[] = [];
    const leaves: (() => void)[] = [];
    const entered = [0, 1, 2, 3, 4].map((n) =>
      admission.enter().then((leave) => {
        order.push(n);
        leaves.push(leave);
      }),
    );
    await tick();
    expect(order).toEqual([0, 1]);
    expect([admission.active, admission.waiting]).toEqual([2, 3]);
    leaves[1]!();
    // Leaving twice gives back one turn, not two.
    leaves[1]!();
    await tick();
    expect(order).toEqual([0, 1, 2]);
    expect([admission.active, admission.waiting]).toEqual([2, 2]);
    leaves[0]!();
    leaves[2]!();
    await tick();
    expect(order).toEqual([0, 1, 2, 3, 4]);
    await Promise.all(entered);
    leaves[3]!();
    leaves[4]!();
    expect([admission.active, admission.waiting]).toEqual([0, 0]);
  });

  it('refuses a login at once with SERVER_BUSY and Retry-After when the waiting line is full', async () => {
    const admission = new LoginAdmission({ limit: 1, maxWaiting: 2, retryAfterSeconds: 7 });
    const first = await admission.enter();
    const waiting = [admission.enter(), admission.enter()];
    const refused = await admission.enter().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ServerBusyError);
    expect(refused).toMatchObject({ code: 'SERVER_BUSY', httpStatus: 503, retryAfterSeconds: 7 });
    first();
    (await waiting[0]!)();
    (await waiting[1]!)();
    expect([admission.active, admission.waiting]).toEqual([0, 0]);
  });

  it('takes an abandoned login out of the line without using a turn', async () => {
    const admission = new LoginAdmission({ limit: 1 });
    const first = await admission.enter();
    const gone = new AbortController();
    const abandoned = admission.enter(gone.signal).catch((error: unknown) => error);
    const next = admission.enter();
    gone.abort(new Error('client left'));
    expect(await abandoned).toMatchObject({ message: 'client left' });
    expect(admission.waiting).toBe(1);
    first();
    const leave = await next;
    expect(admission.active).toBe(1);
    leave();
    await expect(admission.enter(gone.signal)).rejects.toThrow('client left');
    expect([admission.active, admission.waiting]).toEqual([0, 0]);
  });

  it('refuses options that are not positive integers', () => {
    expect(() => new LoginAdmission({ limit: 0 })).toThrow(ConfigurationError);
    expect(() => new LoginAdmission({ maxWaiting: 1.5 })).toThrow(ConfigurationError);
    expect(() => new LoginAdmission({ retryAfterSeconds: -1 })).toThrow(ConfigurationError);
  });

  it('admits a request whose body a parser has already read', async () => {
    const admission = new LoginAdmission({ limit: 1 });
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        // Node destroys a request once its body is read; the response is still to be written.
        setImmediate(() => {
          expect(req.destroyed).toBe(true);
          void admission.admit(req, res).then((ok) => res.end(ok ? 'admitted' : 'skipped'));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'SAMLResponse=x' });
      expect(await answer.text()).toBe('admitted');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  describe('admit(request, response)', () => {
    let server: Server | undefined;
    afterEach(async () => {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    });

    /** A server whose requests wait for admission, then are answered when the test says so. */
    async function serve(admission: LoginAdmission) {
      const held: (() => void)[] = [];
      const admitted: string[] = [];
      server = createServer((req, res) => {
        void admission.admit(req, res).then((ok) => {
          if (!ok) return;
          admitted.push(req.url!);
          held.push(() => res.end('ok'));
        });
      });
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const send = (path: string) => {
        const req = httpRequest({ port, path, method: 'POST' });
        const answered = new Promise<string>((resolve, reject) => {
          req.on('response', (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => resolve(body));
          });
          req.on('error', reject);
        });
        req.end();
        return { req, answered };
      };
      const until = async (check: () => boolean) => {
        for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
        expect(check()).toBe(true);
      };
      return { held, admitted, send, until };
    }

    it('gives the turn back when the response closes, and skips a client that left while waiting', async () => {
      const admission = new LoginAdmission({ limit: 1 });
      const { held, admitted, send, until } = await serve(admission);
      const first = send('/first');
      await until(() => admitted.length === 1);
      const leaving = send('/leaving');
      leaving.answered.catch(() => undefined);
      const third = send('/third');
      await until(() => admission.waiting === 2);
      // The second client goes away before its turn: it must neither run nor keep a turn.
      leaving.req.destroy();
      await until(() => admission.waiting === 1);
      held.shift()!();
      expect(await first.answered).toBe('ok');
      await until(() => admitted.length === 2);
      expect(admitted).toEqual(['/first', '/third']);
      held.shift()!();
      expect(await third.answered).toBe('ok');
      await until(() => admission.active === 0);
      expect(admission.waiting).toBe(0);
    });

    it('gives the turn back when an admitted client goes away before its answer', async () => {
      const admission = new LoginAdmission({ limit: 1 });
      const { admitted, send, until } = await serve(admission);
      const first = send('/first');
      first.answered.catch(() => undefined);
      await until(() => admitted.length === 1);
      const second = send('/second');
      second.answered.catch(() => undefined);
      await until(() => admission.waiting === 1);
      first.req.destroy();
      await until(() => admitted.length === 2);
      expect(admitted).toEqual(['/first', '/second']);
      second.req.destroy();
      await until(() => admission.active === 0);
    });
  });
});
