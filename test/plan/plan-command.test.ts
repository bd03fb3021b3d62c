// `tsbuild plan` through main(), with captured streams: what a user types and sees.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { busyboxImageTar } from '../helpers/busybox-image.js';
import { runCli } from '../helpers/run-cli.js';
import { testdir } from '../helpers/testdir.js';

/** Runs `tsbuild plan …` in `cwd` with a store root that does not exist, unless given one. */
function run(cwd: string, env: NodeJS.ProcessEnv, ...argv: string[]) {
  const root = argv[0] === '--root' ? [] : ['--root', join(cwd, 'no-store')];
  return runCli([...root, ...argv], { cwd, env });
}

const RECIPE = [
  'ARG BASE=scratch',
  'FROM ${BASE} AS build',
  'ARG VERSION=dev',
  'WORKDIR /src',
  'COPY . .',
  'RUN --network=none echo "$VERSION" > /version',
  '',
  'FROM scratch AS unused',
  'RUN never',
  '',
  'FROM scratch',
  'COPY --from=build /version /version',
  'ENV V=${VERSION:-none}',
  'ENTRYPOINT ["/app"]',
].join('\n');

describe('tsbuild plan', () => {
  it('prints the stages the target needs with expanded steps and the image config', async () => {
    const dir = testdir({ Dockerfile: RECIPE });
    const result = await run(dir, {}, 'plan', '--platform', 'linux/amd64', '--build-arg', 'VERSION=1.2', '.');
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(result.stdout).toBe(
      [
        'Dockerfile: target #2 for linux/amd64',
        'build args: BASE=scratch VERSION=1.2',
        '',
        'stage #0 build: FROM scratch',
        '   3  ARG VERSION=1.2',
        '   4  WORKDIR /src  (creates /src)',
        '   5  COPY . .  → /src/',
        '   6  RUN --network=none echo "$VERSION" > /version  (network none)',
        '',
        'stage #2: FROM scratch (needs #0 build)',
        '  12  COPY --from=build /version /version  → /version',
        '  13  ENV V=none',
        '  14  ENTRYPOINT ["/app"]',
        '',
        'image config:',
        '  env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '  env V=none',
        '  entrypoint ["/app"]',
        '  workdir /',
        '',
      ].join('\n'),
    );
  });

  it('--format json prints the BuildGraph; -f and --target pick file and stage; K alone reads the environment', async () => {
    const dir = testdir({ 'ci/app.Dockerfile': RECIPE });
    const result = await run(dir, { VERSION: 'from-env' }, 'plan', '-f', 'ci/app.Dockerfile', '--target', 'build', '--build-arg', 'VERSION', '--format', 'json', '.');
    expect(result.status).toBe(0);
    const graph = JSON.parse(result.stdout);
    expect(graph.file).toBe('ci/app.Dockerfile');
    expect(graph.target).toBe(0);
    expect(graph.stages.map((stage: { index: number }) => stage.index)).toEqual([0]);
    expect(graph.buildArgs.VERSION).toBe('from-env');
    expect(graph.source).toBeUndefined();
  });

  it('-f - plans the Dockerfile given on stdin, named stdin', async () => {
    const dir = testdir({ Dockerfile: 'FROM scratch AS ignored\n' });
    const result = await runCli(['--root', join(dir, 'no-store'), 'plan', '-f', '-', '--format', 'json', '.'], { cwd: dir, env: {}, stdin: RECIPE });
    expect(result.status, result.stderr).toBe(0);
    const graph = JSON.parse(result.stdout);
    expect(graph.file).toBe('stdin');
    expect(graph.stages.map((stage: { index: number }) => stage.index)).toEqual([0, 2]);
  });

  it('warns on stderr about unused build args and unresolved base images', async () => {
    const dir = testdir({ Dockerfile: 'FROM alpine:3.19\nRUN true\n' });
    const result = await run(dir, {}, 'plan', '--build-arg', 'NOPE=1', '.');
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('warning: Dockerfile:1:6: base image alpine:3.19 was not resolved');
    expect(result.stderr).toContain('warning: build args given but not consumed by the target: NOPE');
  });

  it('reads base image configs from the store when it has them', async () => {
    const dir = testdir({ Dockerfile: 'FROM busybox\nENV PATH=/opt/bin:$PATH\nRUN true\n' });
    const root = join(dir, 'store');
    expect((await runCli(['--root', root, 'load', await busyboxImageTar()])).status).toBe(0);
    const result = await run(dir, {}, '--root', root, 'plan', '--format', 'json', '.');
    expect(result).toMatchObject({ status: 0, stderr: '' });
    const graph = JSON.parse(result.stdout);
    expect(graph.stages[0].baseConfig.cmd).toEqual(['sh']);
    expect(graph.stages[0].steps[0].config.env[0]).toMatch(/^PATH=\/opt\/bin:\/usr\/local\/sbin:/);
  });

  it('a missing Dockerfile is a clear error, exit 1, no stack', async () => {
    const dir = testdir({ 'README.md': 'no recipe here' });
    const result = await run(dir, {}, 'plan', '.');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`error: cannot read the Dockerfile ${dir}/Dockerfile [E_RECIPE_NOT_FOUND]`);
    expect(result.stderr).toContain('hint: Put a Dockerfile in the context, or name one with -f.');
    expect(result.stderr).not.toContain('    at ');
  });

  it('a recipe error names file:line:col and shows the line, exit 1', async () => {
    const dir = testdir({ Dockerfile: 'FROM scratch\nCOPPY a b\n' });
    const result = await run(dir, {}, 'plan', '.');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('error: Dockerfile:2:1: unknown instruction: COPPY [E_RECIPE_INSTRUCTION]');
    expect(result.stderr).toContain('>>> 2 | COPPY a b');
    expect(result.stdout).toBe('');
  });

  it('usage errors exit 2: unknown target, bad platform, context not a directory, empty build-arg name', async () => {
    const dir = testdir({ Dockerfile: 'FROM scratch AS only\n' });
    expect(await run(dir, {}, 'plan', '--target', 'nope', '.')).toMatchObject({ status: 1 });
    expect((await run(dir, {}, 'plan', '--platform', 'linux', '.')).stderr).toContain('invalid platform "linux"');
    expect(await run(dir, {}, 'plan', 'missing-dir')).toMatchObject({ status: 2 });
    expect((await run(dir, {}, 'plan', '--build-arg', '=x', '.')).status).toBe(2);
    const git = await run(dir, {}, 'plan', 'https://user:secret@git.example/org/app.git#main');
    expect(git).toMatchObject({ status: 2 });
    expect(git.stderr).toContain('tsbuild build --dry-run URL');
    expect(git.stderr).not.toContain('secret');
  });
});
