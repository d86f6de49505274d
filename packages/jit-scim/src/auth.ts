import { auditEvent, type DirectoryRecord } from '@jit-sso/core';
import { header, type ServiceContext } from './context.js';
import { tooManyAttempts } from './errors.js';
import type { ScimAuthThrottle } from './throttle.js';
import { resolveToken } from './tokens.js';
import type { ScimRequest } from './types.js';

/**
 * The directory the request's token opens. A client (or a tenant's revoked token) over its budget
 * of failures is refused with 429 before its token is even looked at, and each burst is logged and
 * audited once, without the token.
 */
export async function authenticated(
  service: ServiceContext,
  throttle: ScimAuthThrottle | null,
  request: ScimRequest,
): Promise<DirectoryRecord> {
  const address = `address:${request.clientAddress ?? 'unknown'}`;
  if (throttle) {
    const wait = await throttle.blockedFor(address);
    if (wait > 0) throw tooManyAttempts(wait);
  }
  const outcome = await resolveToken(service.store, header(request.headers, 'authorization'));
  if ('directory' in outcome) return outcome.directory;
  if (!throttle) throw outcome.refused;
  const keys = [address, ...(outcome.tenantId !== null ? [`tenant:${outcome.tenantId}`] : [])];
  let wait = 0;
  for (const key of keys) {
    const failed = await throttle.fail(key);
    wait = Math.max(wait, failed.blockedForMs);
    if (failed.started) await reportThrottled(service, key, request, outcome.tenantId);
  }
  throw wait > 0 ? tooManyAttempts(wait) : outcome.refused;
}

async function reportThrottled(
  service: ServiceContext,
  key: string,
  request: ScimRequest,
  tenantId: string | null,
): Promise<void> {
  const { logger } = service;
  const record = { key, clientAddress: request.clientAddress ?? null, tenantId };
  const line = `SCIM authentication throttled for ${key}: too many failed attempts`;
  if (logger.warn) logger.warn(record, line);
  else logger.error(record, line);
  // An unknown token names no tenant: the event is recorded without one.
  await service.store.directoryTransaction((tx) =>
    tx.appendAudit(
      auditEvent({
        at: service.now(),
        tenantId: tenantId ?? '',
        actor: 'scim',
        action: 'denied',
        subject: request.clientAddress ?? null,
        reason: 'SCIM_AUTH_THROTTLED',
      }),
    ),
  );
}
