import { Option, type Command } from 'commander';
import {
  createDeliveryWorker,
  isOutboxStore,
  LIFECYCLE_EVENT_TYPES,
  listDeliveryFailures,
  listWebhookEndpoints,
  pauseWebhookEndpoint,
  redeliverWebhooks,
  registerWebhookEndpoint,
  rotateWebhookSecret,
  type DeliveryRecord,
  type DeliveryReport,
  type EndpointContext,
  type EndpointView,
  type OutboxStore,
  type WebhookMode,
} from '@jit-sso/core';
import { CliError } from '../errors.js';
import { note, write } from '../io.js';
import { createRecordWriter, type Column } from '../output.js';
import { parsePositiveInt } from '../parse.js';
import type { CommandContext, DatabaseOptions } from '../program.js';

interface ModeOptions extends DatabaseOptions {
  development?: boolean;
  json?: boolean;
}

function outboxStore(store: unknown): OutboxStore {
  if (!isOutboxStore(store as OutboxStore)) {
    throw new CliError('STORE_UNSUPPORTED', 'This store keeps no outbox of lifecycle events.', {
      hint: 'Upgrade @jit-sso/typeorm to a version with the outbox and run jit migrate.',
    });
  }
  return store as OutboxStore;
}

const mode = (options: ModeOptions): WebhookMode => (options.development ? 'development' : 'production');
const iso = (d: Date | null) => (d ? d.toISOString() : '');

/** The event types of `--events`; `registerWebhookEndpoint` refuses unknown ones with their own code. */
function parseTypes(value: string): string[] {
  return value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

const ENDPOINT_COLUMNS: readonly Column<EndpointView>[] = [
  { header: 'id', value: (e) => e.id },
  { header: 'tenant', value: (e) => e.tenantId ?? '' },
  { header: 'url', value: (e) => e.url },
  { header: 'paused', value: (e) => (e.paused ? 'yes' : 'no') },
  { header: 'events', value: (e) => (e.eventTypes ? e.eventTypes.join(',') : 'all') },
  { header: 'rotating until', value: (e) => (e.rotating ? iso(e.previousSecretExpiresAt) : '') },
];

const endpointJson = (e: EndpointView) => ({
  ...e,
  previousSecretExpiresAt: iso(e.previousSecretExpiresAt) || null,
  createdAt: e.createdAt.toISOString(),
  updatedAt: e.updatedAt.toISOString(),
});

const DELIVERY_COLUMNS: readonly Column<DeliveryRecord>[] = [
  { header: 'delivery', value: (d) => d.id },
  { header: 'event', value: (d) => d.eventId },
  { header: 'endpoint', value: (d) => d.endpointId },
  { header: 'status', value: (d) => d.status },
  { header: 'attempts', value: (d) => String(d.attempts) },
  { header: 'next attempt', value: (d) => (d.status === 'pending' ? d.nextAttemptAt.toISOString() : '') },
  { header: 'last error', value: (d) => d.lastError ?? '' },
];

const deliveryJson = (d: DeliveryRecord) => ({
  ...d,
  nextAttemptAt: d.nextAttemptAt.toISOString(),
  leaseUntil: iso(d.leaseUntil) || null,
  deliveredAt: iso(d.deliveredAt) || null,
  createdAt: d.createdAt.toISOString(),
});

export function registerWebhookCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const context = async (options: ModeOptions): Promise<EndpointContext> => ({
    store: outboxStore((await ctx.backend(options)).store),
    mode: mode(options),
    now: io.now,
  });
  const development = () =>
    new Option(
      '--development',
      'accept http URLs and private or loopback addresses (local testing only; refused by default to prevent SSRF)',
    );

  const webhooks = program
    .command('webhooks')
    .description('Endpoints that receive lifecycle events as signed webhooks (Standard Webhooks).');

  ctx
    .database(webhooks.command('add'))
    .description("Register an endpoint for a tenant's events. Its signing secret is printed once, on stdout.")
    .requiredOption('--tenant <id>', 'the tenant')
    .requiredOption('--url <url>', 'where to POST events (https, on a public address)')
    .option(
      '--events <types>',
      `only these event types, comma-separated (${LIFECYCLE_EVENT_TYPES.join(', ')})`,
      parseTypes,
    )
    .addOption(development())
    .option('--json', 'print the endpoint and its secret as JSON')
    .action(
      ctx.action(async (options: ModeOptions & { tenant: string; url: string; events?: string[] }) => {
        const { endpoint, secret } = await registerWebhookEndpoint(await context(options), {
          tenantId: options.tenant,
          url: options.url,
          eventTypes: options.events ?? null,
        });
        if (options.json)
          await write(io.stdout, `${JSON.stringify({ ...endpointJson(endpoint), secret })}\n`);
        else {
          await write(io.stdout, `${secret}\n`);
          note(
            io,
            `registered endpoint ${endpoint.id} for tenant ${options.tenant}; the secret above is shown once`,
          );
        }
      }),
    );

  ctx
    .database(webhooks.command('list'))
    .description('List endpoints (without their secrets).')
    .option('--tenant <id>', 'only this tenant')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'),
    )
    .action(
      ctx.action(async (options: ModeOptions & { tenant?: string; format: 'table' | 'json' | 'csv' }) => {
        const endpoints = await listWebhookEndpoints(await context(options), options.tenant);
        const out = createRecordWriter(io, options.format, ENDPOINT_COLUMNS, endpointJson);
        await out.write(endpoints);
        await out.end();
      }),
    );

  ctx
    .database(webhooks.command('rotate'))
    .argument('<endpoint-id>')
    .description(
      'Give an endpoint a new secret, printed once. Deliveries are signed with the old and the new one until the overlap ends.',
    )
    .option('--overlap-hours <n>', 'how long the old secret stays valid', parsePositiveInt, 24)
    .option('--json', 'print the endpoint and its new secret as JSON')
    .action(
      ctx.action(async (id: string, options: ModeOptions & { overlapHours: number }) => {
        const { endpoint, secret } = await rotateWebhookSecret(await context(options), id, {
          overlapMs: options.overlapHours * 3_600_000,
        });
        if (options.json)
          await write(io.stdout, `${JSON.stringify({ ...endpointJson(endpoint), secret })}\n`);
        else {
          await write(io.stdout, `${secret}\n`);
          note(
            io,
            `rotated ${endpoint.id}; the old secret stays valid until ${iso(endpoint.previousSecretExpiresAt)}`,
          );
        }
      }),
    );

  for (const [name, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    ctx
      .database(webhooks.command(name))
      .argument('<endpoint-id>')
      .description(
        paused
          ? 'Stop sending to an endpoint; its events wait (none is lost) until it resumes.'
          : 'Send again to a paused endpoint, its waiting events first.',
      )
      .action(
        ctx.action(async (id: string, options: ModeOptions) => {
          const endpoint = await pauseWebhookEndpoint(await context(options), id, paused);
          note(io, `${endpoint.id} ${paused ? 'paused' : 'resumed'}`);
        }),
      );
  }

  ctx
    .database(webhooks.command('failures'))
    .description('Deliveries that failed: dead-lettered ones, and those waiting for a retry.')
    .option('--tenant <id>', 'only this tenant')
    .option('--endpoint <id>', 'only this endpoint')
    .option('--limit <n>', 'at most this many', parsePositiveInt, 100)
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'),
    )
    .action(
      ctx.action(
        async (
          options: ModeOptions & {
            tenant?: string;
            endpoint?: string;
            limit: number;
            format: 'table' | 'json' | 'csv';
          },
        ) => {
          const failures = await listDeliveryFailures(await context(options), {
            ...(options.tenant ? { tenantId: options.tenant } : {}),
            ...(options.endpoint ? { endpointId: options.endpoint } : {}),
            limit: options.limit,
          });
          const out = createRecordWriter(io, options.format, DELIVERY_COLUMNS, deliveryJson);
          await out.write(failures);
          await out.end();
        },
      ),
    );

  ctx
    .database(webhooks.command('redeliver'))
    .description(
      'Send deliveries again, from now: dead-lettered ones (default), those waiting for a retry, or delivered ones.',
    )
    .option('--tenant <id>', 'only this tenant')
    .option('--endpoint <id>', 'only this endpoint')
    .option('--event <id>', 'only this event')
    .addOption(
      new Option('--status <status>', 'which deliveries')
        .choices(['dead', 'pending', 'delivered'])
        .default('dead'),
    )
    .action(
      ctx.action(
        async (
          options: ModeOptions & {
            tenant?: string;
            endpoint?: string;
            event?: string;
            status: 'dead' | 'pending' | 'delivered';
          },
        ) => {
          const n = await redeliverWebhooks(await context(options), {
            ...(options.tenant ? { tenantId: options.tenant } : {}),
            ...(options.endpoint ? { endpointId: options.endpoint } : {}),
            ...(options.event ? { eventId: options.event } : {}),
            status: options.status,
          });
          note(io, `${n} deliver${n === 1 ? 'y' : 'ies'} queued again`);
        },
      ),
    );

  const events = program.command('events').description('Lifecycle events in the outbox.');

  ctx
    .database(events.command('deliver'))
    .description(
      'Send due events to the registered endpoints, signed, with retries. Runs until interrupted (SIGINT/SIGTERM), or once with --once. Several may run at once.',
    )
    .option('--once', 'send what is due now, then exit (for cron)')
    .option('--poll-ms <n>', 'pause between polls when idle', parsePositiveInt, 1000)
    .option('--timeout-ms <n>', 'how long one endpoint may take to answer', parsePositiveInt, 10_000)
    .addOption(development())
    .option('--json', 'print the report as JSON')
    .action(
      ctx.action(async (options: ModeOptions & { once?: boolean; pollMs: number; timeoutMs: number }) => {
        const store = outboxStore((await ctx.backend(options)).store);
        const worker = createDeliveryWorker({
          store,
          mode: mode(options),
          pollMs: options.pollMs,
          timeoutMs: options.timeoutMs,
          now: io.now,
          logger: {
            error: (record, message) => io.stderr.write(`jit: ${message} ${JSON.stringify(record)}\n`),
          },
        });
        let report: DeliveryReport;
        if (options.once) {
          report = await worker.runOnce();
          await worker.stop();
        } else {
          worker.start();
          note(io, 'delivering events; stop with Ctrl-C');
          await new Promise<void>((resolve) => {
            const stop = () => resolve();
            process.once('SIGINT', stop);
            process.once('SIGTERM', stop);
          });
          await worker.stop();
          report = { dispatched: 0, delivered: 0, failed: 0, dead: 0 };
        }
        if (options.json) await write(io.stdout, `${JSON.stringify(report)}\n`);
        else if (options.once) {
          note(
            io,
            `dispatched ${report.dispatched} event(s); delivered ${report.delivered}, failed ${report.failed} (to retry), dead ${report.dead}`,
          );
        }
      }),
    );
}
