import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKSPACE } from '../src/packages.js';

/** The first TypeScript block after a heading of the root README. */
async function readmeBlock(heading: string): Promise<string> {
  const readme = await readFile(join(WORKSPACE, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(`\n## ${heading}\n`));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!section.startsWith('\n## ') || !block) throw new Error(`README has no code under "${heading}"`);
  return block[1]!;
}

/** The lines between `// #region readme` and `// #endregion` of a consumer app's file. */
async function region(file: string): Promise<string> {
  const source = await readFile(new URL(`../apps/${file}`, import.meta.url), 'utf8');
  const found = /\/\/ #region readme\n([\s\S]*?)\/\/ #endregion/.exec(source);
  if (!found) throw new Error(`${file} has no readme region`);
  return found[1]!;
}

// The consumer apps compile and run these files, so the README's examples are code that works.
describe("the root README's examples", () => {
  it('"Ten lines with Express" is the Express 5 app\'s code', async () => {
    expect(await readmeBlock('Ten lines with Express')).toBe(await region('express5/src/main.ts'));
  });

  it('"Ten lines with NestJS" is the NestJS 12 app\'s module', async () => {
    expect(await readmeBlock('Ten lines with NestJS')).toBe(await region('nest12/src/app.module.ts'));
  });
});
