import { UnknownConnectionError, type Connection, type Provisioner } from '@jit-sso/core';

/** The connection id from the route parameter; an absent one is an unknown connection. */
export function connectionIdOf(request: unknown, param: string): string {
  const params = (request as { params?: Record<string, unknown> } | null)?.params;
  const value = params?.[param];
  if (typeof value !== 'string' || value === '') throw new UnknownConnectionError('');
  return value;
}

/** The request's connection; one of the other protocol is unknown on this route. */
export async function connectionOf(
  provisioner: Pick<Provisioner, 'getConnection'>,
  request: unknown,
  param: string,
  protocol: Connection['protocol'],
): Promise<Connection> {
  const connection = await provisioner.getConnection(connectionIdOf(request, param));
  if (connection.protocol !== protocol) throw new UnknownConnectionError(connection.id);
  return connection;
}
