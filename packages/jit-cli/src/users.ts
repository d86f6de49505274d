import { tryNormaliseEmail, type StoreReader, type UserRecord, type UserQuery } from '@jit-sso/core';
import { CliError, UsageError } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Users matching exactly one email or external id (`tenantId` narrows). The store filters; the
 * result is checked again here so that a store ignoring a filter can never widen a deactivation.
 */
export async function findUsersBy(
  store: StoreReader,
  by: { email: string } | { externalId: string },
  tenantId?: string,
): Promise<UserRecord[]> {
  const query: UserQuery = { ...by, limit: 10 };
  if (tenantId !== undefined) query.tenantId = tenantId;
  const found = await store.listUsers(query);
  return found.filter(
    (u) =>
      (tenantId === undefined || u.tenantId === tenantId) &&
      ('email' in by ? u.email === by.email : u.externalId === by.externalId),
  );
}

/** A user named on the command line by id or by email (`--tenant` when the email is in several tenants). */
export async function resolveUser(store: StoreReader, ref: string, tenantId?: string): Promise<UserRecord> {
  if (ref.includes('@')) {
    const email = tryNormaliseEmail(ref);
    if (!email) throw new UsageError(`"${ref}" is not an email address.`);
    const found = await findUsersBy(store, { email }, tenantId);
    if (found.length === 0) {
      throw new CliError(
        'USER_NOT_FOUND',
        `No user with email ${email}${tenantId ? ` in tenant "${tenantId}"` : ''}.`,
      );
    }
    if (found.length > 1) {
      throw new CliError(
        'USER_AMBIGUOUS',
        `${email} is a user in ${found.length} tenants (${found.map((u) => u.tenantId).join(', ')}).`,
        { hint: 'Name the tenant with --tenant, or give the user id.' },
      );
    }
    return found[0]!;
  }
  // Ids are UUIDs; anything else can only be an external id (and some databases reject non-UUID ids).
  const byId = UUID.test(ref) ? await store.findUserById(ref) : null;
  if (byId && (tenantId === undefined || byId.tenantId === tenantId)) return byId;
  const byExternal = await findUsersBy(store, { externalId: ref }, tenantId);
  if (byExternal.length > 1) {
    throw new CliError('USER_AMBIGUOUS', `The external id "${ref}" matches ${byExternal.length} users.`, {
      hint: 'Name the tenant with --tenant, or give the user id.',
    });
  }
  if (byExternal.length === 0) {
    throw new CliError('USER_NOT_FOUND', `No user "${ref}"${tenantId ? ` in tenant "${tenantId}"` : ''}.`);
  }
  return byExternal[0]!;
}
