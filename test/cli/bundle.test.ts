// `npm run build` bundles the CLI into dist/bundle/ and bin/tsbuild.js runs that bundle: it
// must work on its own (without dist/cli), and a bundle older than dist/ must never run.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedCli } from '../e2e/isolated-cli.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

describe('the bundled CLI', () => {
  let cli: string;
  let root: string;
  let work: string;
  const tsbuild = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH } });

  beforeAll(() => {
    cli = isolatedCli();
    root = dirname(dirname(cli));
    execFileSync('npm', ['run', '-s', 'bundle'], {
      cwd: root, stdio: 'pipe', env: { ...process.env, PATH: `${join(REPO_ROOT, 'node_modules/.bin')}:${process.env.PATH}` },
    });
    work = mkdtempSync(join(tmpdir(), 'tsbuild-bundle-'));
    writeFileSync(join(work, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /\nCMD ["/hello"]\n');
    writeFileSync(join(work, 'hello.txt'), 'hello\n');
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('builds and answers on its own, with dist/cli gone', () => {
    renameSync(join(root, 'dist/cli'), join(root, 'dist/cli.away'));
    try {
      const version = tsbuild('version');
      expect(version.stderr).toBe('');
      expect(version.stdout).toMatch(/^tsbuild \d+\.\d+\.\d+\n$/);
      const store = join(work, 'store');
      const first = tsbuild('--root', store, 'build', '-q', work);
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);
      const second = tsbuild('--root', store, 'build', '--progress', 'plain', work);
      expect(second.status).toBe(0);
      expect(second.stderr).toMatch(/0 run, 2 cached/);
      expect(second.stderr).toContain(`image ${first.stdout.trim()}`);
      expect(tsbuild('--help').stdout).toContain('tsbuild build <context>');
    } finally {
      renameSync(join(root, 'dist/cli.away'), join(root, 'dist/cli'));
    }
  });

  it('is not used once dist/ is newer (tsc run again without bundling)', () => {
    writeFileSync(join(root, 'dist/bundle/main.js'), "throw new Error('an out-of-date bundle ran');\n");
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'dist/bundle/main.js'), past, past);
    const version = tsbuild('version');
    expect(version.stderr).toBe('');
    expect(version.stdout).toMatch(/^tsbuild /);
  });
});
