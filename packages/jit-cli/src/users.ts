import { tryNormaliseEmail, type StoreReader, type UserRecord, type UserQuery } from '@jit-sso/core';
import { CliError, UsageError } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Users with exactly this email or external id (`tenantId` narrows). The result is checked again
 * here: a store that ignores the filter is an error, never a wider deactivation.
 */
export async function findUsersBy(
  store: StoreReader,
  by: { email: string } | { externalId: string },
  tenantId?: string,
): Promise<UserRecord[]> {
  if ('email' in by && tenantId !== undefined) {
    const user = await store.findUserByEmail(tenantId, by.email);
    return user ? [user] : [];
  }
  const query: UserQuery = { ...by, limit: 10 };
  if (tenantId !== undefined) query.tenantId = tenantId;
  const found = await store.listUsers(query);
  const matching = found.filter(
    (u) =>
      (tenantId === undefined || u.tenantId === tenantId) &&
      ('email' in by ? u.email === by.email : u.externalId === by.externalId),
  );
  if (matching.length !== found.length) {
    throw new CliError(
      'STORE_UNSUPPORTED',
      `The store ignored the ${'email' in by ? 'email' : 'externalId'} filter of listUsers, so users cannot be looked up that way.`,
      { hint: 'Upgrade the store package; until then give --tenant and look people up by email.' },
    );
  }
  return matching;
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
