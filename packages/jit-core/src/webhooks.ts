import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { isJitError } from './errors.js';
import { MAX_EVENT_PAYLOAD_BYTES, payloadBytes, webhookBody, type LifecycleEvent } from './events.js';
import { consoleLogger, describeError, type JitLogger } from './logger.js';
import type { ClaimedDelivery, DeliveryOutcome, OutboxStore, WebhookEndpointRecord } from './outbox.js';
import {
  guardedLookup,
  isPublicAddress,
  parseWebhookUrl,
  systemResolver,
  type AddressResolver,
  type WebhookMode,
} from './webhook-address.js';

/** An in-process subscriber: fed from the outbox after commit, at least once (it must be idempotent). */
export type EventSubscriber = (event: LifecycleEvent) => void | Promise<void>;

export interface RetryPolicy {
  /** The delay after the first failure; it doubles with each attempt (default 5 s). */
  readonly baseMs?: number;
  /** The longest delay between two attempts (default 1 h). */
  readonly maxMs?: number;
  /** An event still undelivered this long after it happened is dead-lettered (default 3 days). */
  readonly deadAfterMs?: number;
}

export interface DeliveryWorkerOptions {
  store: OutboxStore;
  /** `production` (default): https only, public addresses only. `development` allows local receivers. */
  mode?: WebhookMode;
  /** Whether this worker sends to HTTP endpoints (default true). */
  http?: boolean;
  /** In-process subscribers by name (at most 25 characters each); each gets every event once delivered. */
  subscribers?: Readonly<Record<string, EventSubscriber>>;
  retry?: RetryPolicy;
  /** How long one HTTP attempt may take, connection to last byte (default 10 s). */
  timeoutMs?: number;
  /** How long a claimed delivery stays with this worker before another may take it (default 2 min). */
  leaseMs?: number;
  /** Deliveries claimed at a time, sent in parallel (default 50). */
  batchSize?: number;
  /** The pause between polls of `start()` when there was nothing to do (default 1 s). */
  pollMs?: number;
  /** The largest payload sent (UTF-8 bytes of its JSON); a larger event is dead-lettered (default `MAX_EVENT_PAYLOAD_BYTES`). */
  maxPayloadBytes?: number;
  logger?: JitLogger;
  now?: () => Date;
  /** In [0, 1), for the jitter of the backoff. */
  random?: () => number;
  resolve?: AddressResolver;
}

export interface DeliveryReport {
  dispatched: number;
  delivered: number;
  failed: number;
  dead: number;
}

export interface DeliveryWorker {
  /**
   * Dispatches new events, then sends every delivery that is due, until none is left (a delivery
   * failing now is due later, not in this run).
   */
  runOnce(): Promise<DeliveryReport>;
  /** Runs `runOnce` in a loop until `stop()`. */
  start(): void;
  /** Wakes a started worker now (after a commit, for a prompt delivery). */
  notify(): void;
  /** Stops the loop, waits for the run in progress, and closes the kept connections. */
  stop(): Promise<void>;
}

const SUBSCRIBER_PREFIX = 'subscriber:';

/**
 * The endpoint row of an in-process subscriber: one per name, shared by every process that runs
 * a subscriber with this name (its id is derived from the name, so two processes make one).
 */
export function subscriberEndpoint(name: string, at: Date): WebhookEndpointRecord {
  return Object.freeze({
    id: `sub:${name}`,
    tenantId: null,
    url: `${SUBSCRIBER_PREFIX}${name}`,
    secret: null,
    previousSecret: null,
    previousSecretExpiresAt: null,
    paused: false,
    eventTypes: null,
    createdAt: at,
    updatedAt: at,
  });
}

/** The `webhook-signature` header: one signature per secret valid at `at` (two during a rotation). */
export function signatures(
  endpoint: Pick<WebhookEndpointRecord, 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>,
  id: string,
  at: Date,
  body: string,
): string {
  const secrets = [endpoint.secret];
  if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > at) {
    secrets.push(endpoint.previousSecret);
  }
  return secrets
    .filter((s): s is string => typeof s === 'string' && s.length > 0)
    .map((secret) => new Webhook(secret).sign(id, at, body))
    .join(' ');
}

/** Builds a delivery worker on an outbox store. Several may run, in one process or many. */
export function createDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const store = options.store;
  const mode = options.mode ?? 'production';
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const resolve = options.resolve ?? systemResolver;
  const logger = options.logger ?? consoleLogger;
  const subscribers = options.subscribers ?? {};
  const names = Object.keys(subscribers);
  for (const name of names) {
    if (!/^[A-Za-z0-9._-]{1,25}$/.test(name)) {
      throw new Error(
        `Subscriber names are 1 to 25 letters, digits, dots, dashes or underscores: "${name}".`,
      );
    }
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const leaseMs = options.leaseMs ?? Math.max(120_000, timeoutMs * 3);
  const batchSize = options.batchSize ?? 50;
  const pollMs = options.pollMs ?? 1000;
  const maxPayloadBytes = options.maxPayloadBytes ?? MAX_EVENT_PAYLOAD_BYTES;
  const baseMs = options.retry?.baseMs ?? 5000;
  const maxMs = options.retry?.maxMs ?? 3_600_000;
  const deadAfterMs = options.retry?.deadAfterMs ?? 3 * 24 * 3_600_000;
  const lookup = guardedLookup(mode, resolve);
  // Connections are kept between deliveries to the same endpoint; each new one is checked by
  // `lookup` (the address it connects to), so a kept connection was checked when it was made.
  const agents = {
    http: new HttpAgent({ keepAlive: true, maxSockets: 16, lookup: lookup as never }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: 16, lookup: lookup as never }),
  };
  let subscribersReady: Promise<void> | null = null;

  const ensureSubscribers = () =>
    (subscribersReady ??= (async () => {
      const existing = new Set((await store.listEndpoints()).map((e) => e.id));
      for (const name of names) {
        const endpoint = subscriberEndpoint(name, now());
        if (existing.has(endpoint.id)) continue;
        try {
          await store.insertEndpoint(endpoint, null);
        } catch (error) {
          // Another process made it first.
          if (!(await store.findEndpoint(endpoint.id))) throw error;
        }
      }
    })().catch((error: unknown) => {
      subscribersReady = null;
      throw error;
    }));

  /** When to try again after `attempts` failures, or `null` to give up (dead-letter). */
  function retryAt(event: LifecycleEvent, attempts: number, at: Date): Date | null {
    const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(attempts - 1, 30));
    // "Equal jitter": between half the delay and the whole of it.
    const delay = exponential / 2 + random() * (exponential / 2);
    const next = new Date(at.getTime() + delay);
    return next.getTime() - event.at.getTime() > deadAfterMs ? null : next;
  }

  async function post(url: URL, headers: Record<string, string>, body: string): Promise<number> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (mode === 'production' && isIP(host) && !isPublicAddress(host)) {
      throw Object.assign(new Error(`The webhook address ${host} is not public.`), { permanent: true });
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    // One deadline for the whole exchange: connecting, sending, and the answer to its last byte.
    const deadline = AbortSignal.timeout(timeoutMs);
    return new Promise<number>((resolvePost, reject) => {
      const fail = (error: Error) =>
        reject(deadline.aborted ? new Error(`No answer within ${timeoutMs} ms.`) : error);
      const req = send(
        url,
        {
          method: 'POST',
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
          agent: url.protocol === 'https:' ? agents.https : agents.http,
          lookup: lookup as never,
          signal: deadline,
        },
        (res: IncomingMessage) => {
          // The answer's body is not needed: read and drop it.
          res.on('data', () => undefined);
          res.on('end', () => resolvePost(res.statusCode ?? 0));
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  }

  async function attempt(claimed: ClaimedDelivery): Promise<DeliveryOutcome> {
    const { event, endpoint, delivery } = claimed;
    const failed = (error: string, status: number | null, permanent = false): DeliveryOutcome => {
      const at = now();
      return {
        kind: 'failed',
        at,
        error,
        status,
        retryAt: permanent ? null : retryAt(event, delivery.attempts, at),
      };
    };
    if (endpoint.url.startsWith(SUBSCRIBER_PREFIX)) {
      const subscriber = subscribers[endpoint.url.slice(SUBSCRIBER_PREFIX.length)];
      if (!subscriber) return failed('No subscriber of this name runs here.', null);
      try {
        await subscriber(event);
        return { kind: 'delivered', at: now(), status: null };
      } catch (error) {
        logger.error({ err: describeError(error), eventId: event.id }, 'jit: an event subscriber failed');
        return failed(
          `The subscriber threw: ${error instanceof Error ? error.message : String(error)}`,
          null,
        );
      }
    }
    if (payloadBytes(event.payload) > maxPayloadBytes) {
      return failed(`PAYLOAD_TOO_LARGE: the payload is over ${maxPayloadBytes} bytes.`, null, true);
    }
    const body = webhookBody(event);
    let url: URL;
    try {
      url = parseWebhookUrl(endpoint.url, mode);
    } catch (error) {
      return failed(
        `${isJitError(error) ? error.code : 'WEBHOOK_URL_INVALID'}: ${(error as Error).message}`,
        null,
        true,
      );
    }
    const sentAt = now();
    const headers = {
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': signatures(endpoint, event.id, sentAt, body),
      'user-agent': 'jit-sso-webhooks/1',
    };
    try {
      const status = await post(url, headers, body);
      if (status >= 200 && status < 300) return { kind: 'delivered', at: now(), status };
      return failed(`The endpoint answered ${status}.`, status);
    } catch (error) {
      const refused = isJitError(error) && error.code === 'WEBHOOK_URL_REFUSED';
      const permanent = refused || (error as { permanent?: boolean }).permanent === true;
      const message = refused ? `WEBHOOK_URL_REFUSED: ${(error as Error).message}` : describeFailure(error);
      return failed(message, null, permanent);
    }
  }

  async function runOnce(): Promise<DeliveryReport> {
    const report: DeliveryReport = { dispatched: 0, delivered: 0, failed: 0, dead: 0 };
    if (names.length) await ensureSubscribers();
    for (;;) {
      const n = await store.dispatchEvents(500, now());
      report.dispatched += n;
      if (n < 500) break;
    }
    for (;;) {
      const claimed = await store.claimDeliveries({
        now: now(),
        leaseMs,
        limit: batchSize,
        http: options.http ?? true,
        subscribers: names,
      });
      if (!claimed.length) break;
      await Promise.all(
        claimed.map(async (c) => {
          const outcome = await attempt(c);
          await store.finishDelivery(c.delivery.id, c.delivery.attempts, outcome);
          if (outcome.kind === 'delivered') report.delivered++;
          else if (outcome.retryAt) report.failed++;
          else report.dead++;
        }),
      );
    }
    return report;
  }

  let running: Promise<void> | null = null;
  let stopping = false;
  let wake: (() => void) | null = null;
  let woken = false;

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        await runOnce();
      } catch (error) {
        logger.error({ err: describeError(error) }, 'jit: webhook delivery failed; retrying');
      }
      if (stopping) break;
      if (woken) {
        woken = false;
        continue;
      }
      await new Promise<void>((r) => {
        const timer = setTimeout(r, pollMs);
        wake = () => {
          clearTimeout(timer);
          r();
        };
      });
      wake = null;
      woken = false;
    }
  }

  return Object.freeze({
    runOnce,
    start() {
      if (running) return;
      stopping = false;
      running = loop().finally(() => {
        running = null;
      });
    },
    notify() {
      woken = true;
      wake?.();
    },
    async stop() {
      stopping = true;
      wake?.();
      await running;
      agents.http.destroy();
      agents.https.destroy();
    },
  });
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
}
