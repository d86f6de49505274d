import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A real HTTP webhook receiver on 127.0.0.1. `answer` decides each response (status, delay, or
 * `hang` to never answer); `stop()`/`start()` take it down and bring it back on the same port.
 * It counts requests in flight per `webhook-id`, to show that no event is sent twice at once.
 */
export class Receiver {
  readonly received: Received[] = [];
  maxInFlightPerId = 0;
  /** The most requests in flight at once, all ids together. */
  maxInFlight = 0;
  private inFlightTotal = 0;
  answer: (r: Received) => { status: number; delayMs?: number } | 'hang' = () => ({ status: 204 });
  private readonly inFlight = new Map<string, number>();
  private server: Server | null = null;
  private readonly hanging = new Set<ServerResponse>();
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = {
          id: String(req.headers['webhook-id']),
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        const n = (this.inFlight.get(r.id) ?? 0) + 1;
        this.inFlight.set(r.id, n);
        this.maxInFlightPerId = Math.max(this.maxInFlightPerId, n);
        this.received.push(r);
        this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlightTotal);
        const done = () => {
          this.inFlightTotal--;
          this.inFlight.set(r.id, (this.inFlight.get(r.id) ?? 1) - 1);
        };
        const answer = this.answer(r);
        if (answer === 'hang') {
          this.hanging.add(res);
          res.on('close', done);
          return;
        }
        setTimeout(() => {
          done();
          res.statusCode = answer.status;
          res.end();
        }, answer.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The bodies received and accepted (2xx), verified with the Standard Webhooks reference verifier. */
  verified(secret: string): { id: string; type: string; data: Record<string, unknown> }[] {
    const wh = new Webhook(secret);
    return this.received.map((r) => {
      const body = wh.verify(r.body, {
        'webhook-id': String(r.headers['webhook-id']),
        'webhook-timestamp': String(r.headers['webhook-timestamp']),
        'webhook-signature': String(r.headers['webhook-signature']),
      }) as { type: string; data: Record<string, unknown> };
      return { id: r.id, type: body.type, data: body.data };
    });
  }
}
