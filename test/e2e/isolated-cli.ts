// A private build of the CLI for tests that run `tsbuild` as a separate process: src/
// compiled into .cache/e2e-cli/<pid>/dist, beside a bin/tsbuild.js and links to native/ and
// package.json, so a concurrent rebuild of the shared dist/ cannot change the code under test.

import { copyFileSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { compileSrcInto, processCacheDir } from '../helpers/compiled-src.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

let cli: string | undefined;

/** Path of a bin/tsbuild.js over a dist/ compiled for this test process. */
export function isolatedCli(): string {
  if (cli) return cli;
  const root = processCacheDir('e2e-cli');
  mkdirSync(join(root, 'bin'), { recursive: true });
  compileSrcInto(join(root, 'dist'), 'cli/main.js');
  copyFileSync(join(REPO_ROOT, 'bin/tsbuild.js'), join(root, 'bin/tsbuild.js'));
  symlinkSync(join(REPO_ROOT, 'native'), join(root, 'native'));
  symlinkSync(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
  process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  cli = join(root, 'bin/tsbuild.js');
  return cli;
}
