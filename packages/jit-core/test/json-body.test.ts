import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readJsonBody, type JsonBodyOptions } from '../src/index.js';

class TooLarge extends Error {}
class NotJson extends Error {}
const options: JsonBodyOptions = {
  limit: 16,
  tooLarge: (limit) => new TooLarge(`limit ${limit}`),
  invalidJson: () => new NotJson('not json'),
};

/** A request whose body is `text`, streamed, optionally with what a body parser left. */
function request(text: string, parsed?: unknown): IncomingMessage & { body?: unknown } {
  const stream = Readable.from(text ? [Buffer.from(text)] : []) as unknown as IncomingMessage & {
    body?: unknown;
  };
  if (parsed !== undefined) stream.body = parsed;
  return stream;
}

/** A request a body parser already read to the end, leaving `body`. */
async function parsedBy(body: unknown) {
  const req = request('');
  for await (const _ of req) void _;
  req.body = body;
  return req;
}

describe('readJsonBody', () => {
  it('reads and parses the stream, an empty one as undefined', async () => {
    expect(await readJsonBody(request('{"a":1}'), options)).toEqual({ a: 1 });
    expect(await readJsonBody(request('  '), options)).toBeUndefined();
  });

  it('refuses a stream past the limit and a body that is not JSON, with the caller’s errors', async () => {
    await expect(readJsonBody(request(`{"a":"${'x'.repeat(32)}"}`), options)).rejects.toThrow(TooLarge);
    await expect(readJsonBody(request('{nope'), options)).rejects.toThrow(NotJson);
  });

  it('takes what a body parser already read: parsed, text or Buffer', async () => {
    expect(await readJsonBody(await parsedBy({ b: 2 }), options)).toEqual({ b: 2 });
    expect(await readJsonBody(await parsedBy('{"c":3}'), options)).toEqual({ c: 3 });
    expect(await readJsonBody(await parsedBy(Buffer.from('[4]')), options)).toEqual([4]);
    await expect(readJsonBody(await parsedBy('{bad'), options)).rejects.toThrow(NotJson);
  });

  it('reads the stream when a parser left a body but not the stream (a type it skipped)', async () => {
    expect(await readJsonBody(request('{"d":4}', {}), options)).toEqual({ d: 4 });
  });
});
