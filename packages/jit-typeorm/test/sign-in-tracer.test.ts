import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import {
  createProvisioner,
  fromOidcClaims,
  MemoryStore,
  type JitLogger,
  type SignInAttempt,
} from '@jit-sso/core';
import { createJitDataSource, dialectOf, migrate, TypeormSignInTracer } from '../src/index.js';
import { freshMysql, freshPostgres, MYSQL_SERVER, POSTGRES_SERVER } from './databases.js';
import { CONNECTION, expectNoPendingSchemaChanges, profile } from './support.js';

const name = `jit_trace_${randomBytes(4).toString('hex')}`;
const DAY = 24 * 3600_000;
const sqliteDir = mkdtempSync(join(tmpdir(), 'jit-trace-'));

const servers = {
  // A file, so that two DataSources are two copies of the app on one database.
  sqlite: {
    url: async () => `sqlite:${join(sqliteDir, 'traces.db')}`,
    drop: async () => rmSync(sqliteDir, { recursive: true, force: true }),
  },
  postgres: {
    url: () => freshPostgres(name),
    drop: async () => {
      const admin = new pg.Client({ connectionString: `${POSTGRES_SERVER}/test` });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  },
  mariadb: {
    url: async () => (await freshMysql(name)).replace(/^mysql:/, 'mariadb:'),
    drop: async () => {
      const admin = await mysql.createConnection(MYSQL_SERVER);
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  },
};

function attempt(connectionId: string, at: Date, overrides: Partial<SignInAttempt> = {}): SignInAttempt {
  return {
    at,
    connectionId,
    tenantId: 'acme',
    subject: 'ann-subject',
    outcome: 'created',
    ok: true,
    hint: null,
    userId: 'u1',
    roles: ['member'],
    profile: fromOidcClaims({
      iss: 'https://idp.acme.test',
      sub: 'ann-subject',
      email: 'ann.secret@acme.test',
      name: 'Ann Secret-Surname',
      groups: ['engineering', 'admins'],
    }),
    test: false,
    ...overrides,
  };
}

/** A logger that keeps what it is told. */
function keptLogger(): JitLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, error: (_record, message) => void lines.push(message) };
}

for (const [dialect, server] of Object.entries(servers)) {
  describe(`sign-in tracer on ${dialect}`, () => {
    let url: string;
    let dataSource: DataSource;
    const q = (n: string) => (dialectOf(dataSource) === 'mysql' ? `\`${n}\`` : `"${n}"`);
    const rawRows = (connectionId: string): Promise<Record<string, unknown>[]> =>
      dataSource.query(
        `SELECT * FROM ${q('jit_sign_in_traces')} WHERE ${q('connection_id')} = ${dialect === 'postgres' ? '$1' : '?'}`,
        [connectionId],
      );

    beforeAll(async () => {
      url = await server.url();
      dataSource = await createJitDataSource(url);
      await migrate(dataSource);
    });
    afterAll(async () => {
      await dataSource?.destroy();
      await server.drop();
    });
    beforeEach(async () => {
      await dataSource.query(`DELETE FROM ${q('jit_sign_in_traces')}`);
    });

    it('has a migration that matches the entity', async () => {
      await expectNoPendingSchemaChanges(dataSource);
    });

    it('redacts attribute values before they are stored: the raw row holds none of them', async () => {
      const tracer = new TypeormSignInTracer(dataSource);
      tracer.record(attempt('c-redact', new Date()));
      await tracer.flush();
      const [row] = await rawRows('c-redact');
      const stored = JSON.stringify(row);
      expect(stored).not.toContain('ann.secret');
      expect(stored).not.toContain('Secret-Surname');
      expect(JSON.parse(String(row!['attributes']))).toMatchObject({
        email: ['•••@acme.test'],
        name: ['•••'],
        groups: ['engineering', 'admins'],
      });
      const [shown] = await tracer.list('c-redact');
      expect(shown).toMatchObject({
        connectionId: 'c-redact',
        tenantId: 'acme',
        subject: 'ann-subject',
        outcome: 'created',
        ok: true,
        roles: ['member'],
        test: false,
        attributes: { email: ['•••@acme.test'], name: ['•••'], groups: ['engineering', 'admins'] },
      });
      // Previews read the stored (redacted) profile.
      const last = await tracer.lastProfile('c-redact');
      expect(last?.profile).toMatchObject({ protocol: 'oidc', subject: 'ann-subject' });
      expect(last?.profile.attributes['groups']).toEqual(['engineering', 'admins']);
    });

    it('applies a custom redaction policy before storing', async () => {
      const tracer = new TypeormSignInTracer(dataSource, { redact: () => 'mask' });
      tracer.record(attempt('c-policy', new Date()));
      await tracer.flush();
      const [row] = await rawRows('c-policy');
      expect(String(row!['attributes'])).not.toContain('engineering');
      expect(String(row!['attributes'])).not.toContain('acme.test');
    });

    it('lists a connection newest first, with refusals and their hints', async () => {
      const tracer = new TypeormSignInTracer(dataSource);
      const t0 = Date.now() - 10_000;
      tracer.record(attempt('c-order', new Date(t0)));
      tracer.record(
        attempt('c-order', new Date(t0 + 1000), {
          outcome: 'DOMAIN_NOT_ALLOWED',
          ok: false,
          hint: 'Verify the domain first.',
          roles: null,
          profile: null,
        }),
      );
      tracer.record(attempt('c-other', new Date(t0 + 2000)));
      await tracer.flush();
      const listed = await tracer.list('c-order');
      expect(listed.map((a) => [a.outcome, a.ok, a.hint])).toEqual([
        ['DOMAIN_NOT_ALLOWED', false, 'Verify the domain first.'],
        ['created', true, null],
      ]);
      expect(listed[0]!.attributes).toEqual({});
      expect(await tracer.list('c-order', 1)).toHaveLength(1);
      // The latest attempt with a profile, not the latest attempt.
      expect((await tracer.lastProfile('c-order'))?.at.getTime()).toBe(t0);
      expect(await tracer.lastProfile('c-none')).toBeNull();
    });

    it('prunes attempts past the retention and past the per-connection cap, as it writes', async () => {
      let now = Date.now();
      const tracer = new TypeormSignInTracer(dataSource, {
        retentionMs: DAY,
        perConnection: 3,
        pruneEvery: 1,
        now: () => new Date(now),
      });
      tracer.record(attempt('c-old', new Date(now - 2 * DAY)));
      tracer.record(attempt('c-prune', new Date(now - 2 * DAY)));
      for (let i = 0; i < 5; i++) tracer.record(attempt('c-prune', new Date(now - 5000 + i)));
      await tracer.flush();
      const rows = await rawRows('c-prune');
      expect(rows).toHaveLength(3);
      expect(rows.map((r) => Number(r['at'])).sort()).toEqual([now - 4998, now - 4997, now - 4996]);
      // The connection that got no new attempt loses its old one too (the time-based sweep).
      expect(await rawRows('c-old')).toHaveLength(0);
      // What is past the retention is never shown, even before a write prunes it.
      now += 2 * DAY;
      expect(await tracer.list('c-prune')).toEqual([]);
      expect(await tracer.lastProfile('c-prune')).toBeNull();
    });

    it('shares attempts between two copies of the app (two DataSources)', async () => {
      const other = await createJitDataSource(url);
      try {
        const a = new TypeormSignInTracer(dataSource);
        const b = new TypeormSignInTracer(other);
        a.record(attempt('c-shared', new Date(Date.now() - 1000), { subject: 'from-a' }));
        b.record(attempt('c-shared', new Date(), { subject: 'from-b' }));
        await Promise.all([a.flush(), b.flush()]);
        expect((await a.list('c-shared')).map((x) => x.subject)).toEqual(['from-b', 'from-a']);
        expect((await b.list('c-shared')).map((x) => x.subject)).toEqual(['from-b', 'from-a']);
      } finally {
        await other.destroy();
      }
    });

    it('never fails a login: a failed write is logged and the login goes on', async () => {
      const logger = keptLogger();
      const tracer = new TypeormSignInTracer(dataSource, { logger });
      const provisioner = createProvisioner({
        store: new MemoryStore(),
        connections: [CONNECTION],
        onSignInAttempt: tracer.record,
      });
      // The table is gone: every write fails.
      await dataSource.query(`ALTER TABLE ${q('jit_sign_in_traces')} RENAME TO ${q('jit_traces_away')}`);
      try {
        const result = await provisioner.provision({
          connectionId: CONNECTION.id,
          profile: profile('ann'),
        });
        expect(result.action).toBe('created');
        await tracer.flush();
      } finally {
        await dataSource.query(`ALTER TABLE ${q('jit_traces_away')} RENAME TO ${q('jit_sign_in_traces')}`);
      }
      expect(logger.lines).toEqual([expect.stringMatching(/sign-in attempt was lost by the tracer/)]);
      // The tracer goes on once the database is back.
      tracer.record(attempt(CONNECTION.id, new Date()));
      await tracer.flush();
      expect(await tracer.list(CONNECTION.id)).toHaveLength(1);
    });

    it('drops an attempt it cannot even prepare (no connection), and logs it', async () => {
      const logger = keptLogger();
      const closed = await createJitDataSource(url);
      await closed.destroy();
      const tracer = new TypeormSignInTracer(closed, { logger });
      expect(tracer.record(attempt('c-closed', new Date()))).toBeUndefined();
      await tracer.flush();
      expect(logger.lines).toEqual([expect.stringMatching(/sign-in attempt was dropped by the tracer/)]);
    });
  });
}

describe('sign-in tracer writes that wait', () => {
  for (const dialect of ['postgres', 'mariadb'] as const) {
    it(`lets the login finish while the trace table is locked (${dialect}), and writes the attempt after`, async () => {
      const url = await servers[dialect].url();
      const dataSource = await createJitDataSource(url);
      const locker = await createJitDataSource(url);
      try {
        await migrate(dataSource);
        const tracer = new TypeormSignInTracer(dataSource);
        const runner = locker.createQueryRunner();
        await runner.connect();
        if (dialect === 'postgres') {
          await runner.startTransaction();
          await runner.query('LOCK TABLE "jit_sign_in_traces" IN ACCESS EXCLUSIVE MODE');
        } else {
          await runner.query('LOCK TABLES `jit_sign_in_traces` WRITE');
        }
        const provisioner = createProvisioner({
          store: new MemoryStore(),
          connections: [CONNECTION],
          onSignInAttempt: tracer.record,
        });
        const started = Date.now();
        const result = await provisioner.provision({
          connectionId: CONNECTION.id,
          profile: profile('bob'),
        });
        expect(result.action).toBe('created');
        expect(Date.now() - started).toBeLessThan(1000);
        // The write waits for the lock.
        const waited = await Promise.race([
          tracer.flush().then(() => 'written'),
          new Promise((r) => setTimeout(() => r('waiting'), 300)),
        ]);
        expect(waited).toBe('waiting');
        if (dialect === 'postgres') await runner.commitTransaction();
        else await runner.query('UNLOCK TABLES');
        await runner.release();
        await tracer.flush();
        expect((await tracer.list(CONNECTION.id)).map((a) => a.subject)).toEqual(['bob']);
      } finally {
        await locker.destroy();
        await dataSource.destroy();
        await servers[dialect].drop();
      }
    });
  }
});
