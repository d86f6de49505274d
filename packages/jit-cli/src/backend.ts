import {
  MemoryConfigurationStore,
  MemoryStore,
  type ConfigurationStore,
  type IdentityStore,
  type UserStatus,
} from '@jit-sso/core';
import { UsageError } from './errors.js';

/** What the commands need from a database: the store, its migrations and a per-tenant summary. */
export interface Backend {
  readonly store: IdentityStore;
  /** Tenants, connections and verified domains kept in the database (changed at run time by the admin service). */
  readonly configuration: ConfigurationStore;
  /** The database, for messages (password removed). */
  readonly description: string;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  migrations(): Promise<{ applied: string[]; pending: string[] }>;
  /** Users per status for each tenant that has users, ordered by tenant id. */
  tenantCounts(): Promise<Array<{ tenantId: string } & Record<UserStatus, number>>>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** The command only reads: nothing may be created (no SQLite file or directory). */
  readonly readOnly: boolean;
}

export type OpenBackend = (url: string, options: OpenOptions) => Promise<Backend>;

export type DatabaseKind = 'sqlite' | 'postgres' | 'mysql';

/** Which database a `--database-url` names. A bare path is a SQLite file. */
export function databaseKind(url: string): DatabaseKind {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (
    scheme === undefined ||
    scheme.length === 1 /* C:\ on Windows */ ||
    scheme === 'sqlite' ||
    scheme === 'file'
  ) {
    return 'sqlite';
  }
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgres';
  if (scheme === 'mysql' || scheme === 'mariadb') return 'mysql';
  throw new UsageError(
    `Unsupported database URL scheme "${scheme}:". Use sqlite:<path>, postgres://… or mysql://….`,
    { code: 'DATABASE_URL_INVALID' },
  );
}

/** The URL with its password replaced, safe to print. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

/** Reads every user page by page (for stores without a grouped count). */
async function countByTenant(store: IdentityStore) {
  const counts = new Map<string, Record<UserStatus, number>>();
  let afterId: string | undefined;
  for (;;) {
    const page = await store.listUsers({ afterId, limit: 1000 });
    for (const user of page) {
      let entry = counts.get(user.tenantId);
      if (!entry) counts.set(user.tenantId, (entry = { active: 0, deactivated: 0 }));
      entry[user.status]++;
    }
    if (page.length < 1000) break;
    afterId = page[page.length - 1]!.id;
  }
  return [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([tenantId, c]) => ({ tenantId, ...c }));
}

/** A backend over an in-process store: for embedding the commands and for tests. */
export function memoryBackend(
  store: IdentityStore = new MemoryStore(),
  configuration: ConfigurationStore = new MemoryConfigurationStore(),
): Backend {
  return {
    store,
    configuration,
    description: 'memory',
    migrate: async () => [],
    migrations: async () => ({ applied: [], pending: [] }),
    tenantCounts: () => countByTenant(store),
    close: async () => undefined,
  };
}
