import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServerBusyError } from '@jit-sso/core';
import { positiveInteger } from './positive-integer.js';

export interface LoginAdmissionOptions {
  /** Logins handled at once; the others wait their turn, in arrival order (default 4). */
  limit?: number;
  /**
   * Logins waiting for a turn; one more is refused at once with `SERVER_BUSY` (503, `Retry-After`)
   * instead of holding more memory (default 256).
   */
  maxWaiting?: number;
  /** `Retry-After` of a refused login, in seconds (default 2). */
  retryAfterSeconds?: number;
}

/**
 * Admission of SAML logins (ACS posts): at most `limit` are handled at once, the others wait before
 * their body is read, and a full waiting line answers 503 at once. With a validation pool a login
 * still takes several steps on the main thread (the body, the session, passport, the store, the
 * answer); admitting a few at a time keeps fewer of them between their steps, which in
 * `bench/express/RESULTS.md` halves the main thread's longest pauses and the p99 of the app's other
 * requests during a login storm. Mount it before the ACS route's body parser.
 */
export class LoginAdmission {
  readonly limit: number;
  readonly maxWaiting: number;
  private readonly retryAfterSeconds: number;
  private running = 0;
  private readonly line: (() => void)[] = [];

  constructor(options: LoginAdmissionOptions = {}) {
    this.limit = positiveInteger('LoginAdmission', options.limit, 4, 'limit');
    this.maxWaiting = positiveInteger('LoginAdmission', options.maxWaiting, 256, 'maxWaiting');
    this.retryAfterSeconds = positiveInteger(
      'LoginAdmission',
      options.retryAfterSeconds,
      2,
      'retryAfterSeconds',
    );
  }

  /** Logins being handled now. */
  get active(): number {
    return this.running;
  }

  /** Logins waiting for their turn. */
  get waiting(): number {
    return this.line.length;
  }

  /**
   * Waits for a turn; the function it resolves to ends the turn (once, however often it is called).
   * `SERVER_BUSY` when `maxWaiting` logins already wait. An aborted `signal` takes a waiting login
   * out of the line (its promise rejects with the signal's reason).
   */
  enter(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve(this.leaver());
    }
    if (this.line.length >= this.maxWaiting) {
      return Promise.reject(
        new ServerBusyError(
          `Too many sign-ins are waiting (${this.maxWaiting}); this one was not attempted.`,
          this.retryAfterSeconds,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const turn = () => {
        signal?.removeEventListener('abort', abandon);
        this.running++;
        resolve(this.leaver());
      };
      const abandon = () => {
        const at = this.line.indexOf(turn);
        if (at >= 0) this.line.splice(at, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', abandon, { once: true });
      this.line.push(turn);
    });
  }

  /**
   * Admits an HTTP request: resolves `true` once it has its turn, which ends when the response is
   * closed (answered or abandoned); `false` when the client went away while waiting (nothing is left
   * to answer). Rejects with `SERVER_BUSY` when the line is full.
   */
  async admit(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    // Not `request.destroyed`: a request whose body was already read (a body parser ran first) is
    // destroyed too, yet it still waits for its answer.
    if (response.closed || response.destroyed || request.socket?.destroyed) return false;
    const gone = new AbortController();
    const onClose = () => gone.abort(new Error('The client closed the connection.'));
    response.once('close', onClose);
    let leave: () => void;
    try {
      leave = await this.enter(gone.signal);
    } catch (error) {
      response.off('close', onClose);
      if (gone.signal.aborted) return false;
      throw error;
    }
    response.off('close', onClose);
    if (response.closed) {
      leave();
      return false;
    }
    response.once('close', leave);
    return true;
  }

  private leaver(): () => void {
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.running--;
      this.line.shift()?.();
    };
  }
}
