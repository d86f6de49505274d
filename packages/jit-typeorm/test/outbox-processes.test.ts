import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { createProvisioner, registerWebhookEndpoint, type DeliveryReport } from '@jit-sso/core';
import { createJitDataSource, migrate, TypeormStore } from '../src/index.js';
import { Receiver } from './receiver.js';
import { CONNECTION, profile, TENANT } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'jit-outbox-processes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const script = join(import.meta.dirname, 'fixtures', 'outbox-process.ts');
const cwd = join(import.meta.dirname, '..');
const args = (...rest: string[]) => ['--conditions=source', '--import', 'tsx', script, ...rest];

async function setUp(file: string, receiver: Receiver): Promise<string> {
  const dataSource = await createJitDataSource(`sqlite:${file}`);
  try {
    await migrate(dataSource);
    const { secret } = await registerWebhookEndpoint(
      { store: new TypeormStore(dataSource), mode: 'development' },
      { tenantId: TENANT, url: receiver.url },
    );
    return secret;
  } finally {
    await dataSource.destroy();
  }
}

it('delivers an event committed by a process killed right after the commit, from the next process', async () => {
  const file = join(dir, 'killed.db');
  const receiver = new Receiver();
  await receiver.start();
  try {
    const secret = await setUp(file, receiver);
    const child = spawn(process.execPath, args('commit', file), {
      cwd,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const userId = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /committed (\S+)\n/.exec(out);
        if (match) {
          child.kill('SIGKILL');
          resolve(match[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`the process ended first (${code})`)));
    });
    await new Promise((resolve) => child.once('exit', resolve));
    expect(child.signalCode).toBe('SIGKILL');
    expect(receiver.received.filter((r) => r.body.includes('user.created'))).toHaveLength(0);

    // The app starts again: its worker finds the event in the outbox.
    const { stdout } = await promisify(execFile)(process.execPath, args('deliver', file, '1'), { cwd });
    expect((JSON.parse(stdout) as DeliveryReport[])[0]).toMatchObject({ delivered: 2 });
    const created = receiver.verified(secret).filter((v) => v.type === 'user.created');
    expect(created).toEqual([expect.objectContaining({ data: expect.objectContaining({ userId }) })]);
  } finally {
    await receiver.stop();
  }
}, 60_000);

it('lets two worker processes share a SQLite file: one writer at a time, each event sent once, in order', async () => {
  const file = join(dir, 'shared.db');
  const receiver = new Receiver();
  await receiver.start();
  try {
    const secret = await setUp(file, receiver);
    const dataSource = await createJitDataSource(`sqlite:${file}`);
    const users: string[] = [];
    try {
      const provisioner = createProvisioner({
        store: new TypeormStore(dataSource),
        connections: [CONNECTION],
      });
      for (let i = 0; i < 10; i++) {
        const { user } = await provisioner.provision({
          connectionId: CONNECTION.id,
          profile: profile(`p${i}`),
        });
        users.push(user.id);
        await provisioner.deactivateUser(user.id);
        await provisioner.reactivateUser(user.id);
      }
    } finally {
      await dataSource.destroy();
    }
    receiver.answer = () => ({ status: 200, delayMs: 10 });
    const run = promisify(execFile);
    const outputs = await Promise.all(
      [1, 2].map(() => run(process.execPath, args('deliver', file, '3'), { cwd })),
    );
    const delivered = outputs.map(({ stdout }) =>
      (JSON.parse(stdout) as DeliveryReport[]).reduce((sum, r) => sum + r.delivered, 0),
    );
    expect(delivered[0]! + delivered[1]!).toBe(31);
    expect(receiver.maxInFlightPerId).toBe(1);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(31);
    expect(receiver.received).toHaveLength(31);
    const verified = receiver.verified(secret);
    for (const userId of users) {
      expect(verified.filter((v) => v.data['userId'] === userId).map((v) => v.type)).toEqual([
        'user.created',
        'user.deactivated',
        'user.reactivated',
      ]);
    }
  } finally {
    await receiver.stop();
  }
}, 60_000);
