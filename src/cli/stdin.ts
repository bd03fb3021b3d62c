// What commands read from stdin: a password, a Dockerfile. Always the whole of it, decoded as
// UTF-8 once at the end, so a character split across chunks arrives whole. `build` reads a
// Dockerfile from it as Docker does (`-f -`, or `build -` for a build without a context).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { startsLikeArchive } from '../index.js';
import { STDIN_ARG } from './argv.js';

export async function readAll(stdin: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

export async function readAllText(stdin: Readable): Promise<string> {
  return (await readAll(stdin)).toString('utf8');
}

/** What `build` takes from stdin: its Dockerfile (`-f -`), or its Dockerfile and no context (`build -`). */
export interface StdinRecipe {
  recipeText?: string;
  /** An empty dir standing for the context of `build -`; removed by `release`. */
  contextDir?: string;
  release(): Promise<void>;
}

export async function recipeFromStdin(file: string | undefined, context: string, stdin: Readable): Promise<StdinRecipe> {
  const none = { release: async () => {} };
  if (file !== STDIN_ARG && context !== STDIN_ARG) return none;
  if (file === STDIN_ARG && context === STDIN_ARG) {
    throw new UsageError('stdin can hold the Dockerfile once: `-f -` and the context `-` cannot be used together', {
      hint: 'tsbuild build -f - DIR < Dockerfile (with a context), or tsbuild build - < Dockerfile (without one)',
    });
  }
  const bytes = await readAll(stdin);
  if (startsLikeArchive(bytes)) {
    throw new UsageError('stdin holds an archive: tsbuild reads only a Dockerfile from stdin, not a context tarball', {
      hint: 'extract the archive and pass its directory: mkdir ctx && tar -xf context.tar -C ctx && tsbuild build ctx',
    });
  }
  const recipeText = bytes.toString('utf8');
  if (file === STDIN_ARG) return { ...none, recipeText };
  const contextDir = await mkdtemp(join(tmpdir(), 'tsbuild-empty-context-'));
  return { recipeText, contextDir, release: () => rm(contextDir, { recursive: true, force: true }) };
}
