import { prepareSample, type Sample, type SampleOptions } from '@jit-sso/sample-express';
import { createNestSampleApp } from './app.js';

/** Starts the Nest sample on the same port plan as the Express one. `close()` stops everything. */
export async function startNestSample(options: SampleOptions = {}): Promise<Sample> {
  const prepared = await prepareSample(options);
  try {
    const { app, handler } = await createNestSampleApp(prepared);
    prepared.attach(handler);
    return {
      ...prepared,
      close: async () => {
        await app.close().catch(() => undefined);
        await prepared.close();
      },
    };
  } catch (error) {
    await prepared.close();
    throw error;
  }
}
