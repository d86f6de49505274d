import type { IncomingMessage } from 'node:http';

export interface JsonBodyOptions {
  /** Largest body, in bytes, read from the stream. */
  limit: number;
  /** The error for a body past `limit` (each API answers it in its own shape). */
  tooLarge(limit: number): Error;
  /** The error for a body that is not JSON. */
  invalidJson(): Error;
}

/**
 * The JSON body of a Node request, for the framework-free handlers (admin API, SCIM): the value a
 * body parser that ran before already read (express.json(), or `ctx.req.body = ctx.request.body` in
 * Koa), parsed when it left text or a Buffer; else the stream, read up to `limit` bytes. An empty body
 * is `undefined`. Express 4's parsers set `req.body = {}` even when they skip a body whose type they
 * do not parse (application/scim+json), leaving the stream unread: that body is read from the stream.
 */
export async function readJsonBody(
  req: IncomingMessage & { body?: unknown },
  options: JsonBodyOptions,
): Promise<unknown> {
  if (req.body !== undefined && (req.readableEnded || !req.readable)) {
    if (typeof req.body === 'string') return parseJsonBody(req.body, options);
    if (req.body instanceof Buffer) return parseJsonBody(req.body.toString('utf8'), options);
    return req.body;
  }
  if (!req.readable) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > options.limit) throw options.tooLarge(options.limit);
    chunks.push(chunk as Buffer);
  }
  return parseJsonBody(Buffer.concat(chunks).toString('utf8'), options);
}

function parseJsonBody(text: string, options: JsonBodyOptions): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw options.invalidJson();
  }
}
