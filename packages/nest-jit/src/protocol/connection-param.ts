import { UnknownConnectionError, type Connection, type Provisioner } from '@jit-sso/core';
import { connectionIdOf as routeConnectionId, type SsoRequest } from '@jit-sso/protocol';

/** The connection id from the route parameter; an absent one is an unknown connection. */
export function connectionIdOf(request: unknown, param: string): string {
  return routeConnectionId((request ?? {}) as SsoRequest, param);
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
