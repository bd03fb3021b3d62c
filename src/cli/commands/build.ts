// `tsbuild build`: flags as `docker buildx build` spells them. Progress goes to stderr through
// the chosen renderer; stdout carries only results (the digest with -q).

import { writeFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { InternalError, isTsbuildError, UsageError } from '../../errors.js';
import { isGitUrl, redactUrl } from '../../lib/git-url.js';
import type { EventSink } from '../../events.js';
import { build, defaultStoreRoot, parseSourceDateEpoch, planContext, type BuildOptions, type BuildResult } from '../../index.js';
import { chooseProgressMode, createRenderer, type RequestedProgressMode } from '../../ui/index.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { formatPlanText } from '../plan-output.js';
import { STDIN_ARG } from '../argv.js';
import { recipeFromStdin } from '../stdin.js';
import { parsePairs, parseSecrets, parseSshSources } from '../flag-values.js';
import { refuseAttestations, type AttestationFlags } from '../attestation-flags.js';
import { lastOf, parseRamSize, parseSandboxFlags, type SandboxFlags } from '../sandbox-flags.js';
import { buildArgValues } from './plan.js';
import { registryFlags, registryOptions, type RegistryFlags } from './registry-flags.js';
import type { CommandSpec } from './types.js';

interface BuildArgs extends RegistryFlags, AttestationFlags, SandboxFlags {
  context: string;
  file?: string;
  tag: string[];
  buildArg: string[];
  target?: string;
  cache: boolean;
  noCacheFilter: string[];
  network: 'none' | 'host' | 'default';
  /** An array when the flag is repeated: the last one wins, as in buildx. */
  memory?: string | string[];
  pids?: number;
  maxParallelism?: number;
  progress: RequestedProgressMode;
  output: string[];
  archive?: string;
  archiveCacheMounts: boolean;
  platform?: string;
  label: string[];
  annotation: string[];
  load: boolean;
  quiet: boolean;
  iidfile?: string;
  metadataFile?: string;
  dryRun: boolean;
  secret: string[];
  ssh: string[];
  buildContext: string[];
  pull?: boolean;
  cacheFrom: string[];
  cacheTo: string[];
  push: boolean;
}

export const buildCommand: CommandSpec<BuildArgs> = {
  command: 'build <context>',
  describe: 'Build an image from a Dockerfile and a context directory or git repository',
  examples: [
    ['tsbuild build -t hello examples/hello', 'build and tag examples/hello'],
    ['tsbuild build -f ci.Dockerfile --target test .', 'build the test stage of ci.Dockerfile'],
    ['tsbuild build -f - . < ci.Dockerfile', 'read the Dockerfile from stdin (tsbuild build - < Dockerfile: no context)'],
    ['tsbuild build -t app https://github.com/org/app.git#v1.2:docker', 'build the docker/ dir of tag v1.2 of a git repository'],
    ['tsbuild build --build-context docs=../docs --build-context alpine=docker-image://alpine:3.20 .', 'COPY --from=docs reads ../docs; FROM alpine uses alpine:3.20'],
    ['tsbuild build -q --build-arg VERSION=1.2 .', 'pass a build arg; print only the image digest'],
    ['tsbuild build -o type=oci,dest=image.tar .', 'also write an OCI image-layout tarball'],
    ['tsbuild build --archive release.tar -t app:1.4 .', 'keep the whole build environment for replay, shell and diff'],
    ['SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) tsbuild build .', 'stamp the image with the last commit time'],
    ['tsbuild build --cache-from type=registry,ref=reg.example/app:cache --cache-to type=registry,ref=reg.example/app:cache,mode=max .', 'share the build cache between CI runners through a registry'],
    ['tsbuild build --ssh default .', 'RUN --mount=type=ssh steps use your agent ($SSH_AUTH_SOCK); the key never enters the image'],
    ['tsbuild build --ssh github=$HOME/.ssh/deploy_key .', 'RUN --mount=type=ssh,id=github steps get an agent holding this key for the build'],
    ['tsbuild build --add-host db.internal:10.0.0.5 --shm-size 256m --ulimit nofile=4096:8192 .', 'an /etc/hosts entry, a bigger /dev/shm and an open-file limit for every RUN step'],
    ['tsbuild build -t reg.example/app:1 --push .', 'build and push (FROM images missing from the store are pulled)'],
    ['tsbuild build -t app:dev --load .', 'also load the image into the Docker daemon at $DOCKER_HOST'],
    ['tsbuild build --annotation index:org.opencontainers.image.title=app -o type=oci,dest=app.tar .', 'annotate the index.json of the OCI output (manifest annotations need no output)'],
  ],
  builder: (y) =>
    registryFlags(y)
      .positional('context', { type: 'string', describe: 'The build context: a directory, a git URL (https://host/org/repo.git#REF:DIR, git@host:org/repo.git), or - for none (the Dockerfile comes from stdin)' })
      .option('file', { alias: 'f', type: 'string', describe: 'The Dockerfile (default: CONTEXT/Dockerfile; in a git context, relative to it); - reads it from stdin' })
      .option('tag', { alias: 't', type: 'string', array: true, nargs: 1, default: [], describe: 'Name the image NAME[:TAG] (repeatable)' })
      .option('build-arg', { type: 'string', array: true, nargs: 1, default: [], describe: 'Set a build arg K=V (K alone takes it from the environment)' })
      .option('target', { type: 'string', describe: 'Build this stage (name or index) instead of the last' })
      .option('cache', { type: 'boolean', default: true, describe: 'Use cached steps; --no-cache runs every step' })
      .option('no-cache-filter', { type: 'string', array: true, nargs: 1, default: [], describe: 'Run the steps of these stages again (names or indexes, comma-separated or repeated); the rest may be cached' })
      .option('network', { choices: ['none', 'host', 'default'] as const, default: 'none' as const, describe: 'Network of RUN steps (default: none)' })
      .option('memory', { type: 'string', describe: 'Memory limit of each RUN step, e.g. 512m (binary units, as Docker)' })
      .option('max-parallelism', { type: 'number', describe: 'How many steps run at once (default: two per CPU)' })
      .option('pids', { type: 'number', describe: 'Process limit of each RUN step' })
      .option('add-host', { type: 'string', array: true, nargs: 1, default: [], describe: "Add NAME:IP (or NAME=IP, IPv6 as NAME=[::1]) to each RUN step's /etc/hosts (repeatable)" })
      .option('shm-size', { type: 'string', describe: 'Size of /dev/shm in each RUN step, e.g. 128m (default 64m)' })
      .option('ulimit', { type: 'string', array: true, nargs: 1, default: [], describe: 'Resource limit of each RUN step: TYPE=SOFT[:HARD], e.g. nofile=1024:4096 (repeatable)' })
      .option('progress', { choices: ['auto', 'tty', 'plain', 'json', 'quiet'] as const, default: 'auto' as const, describe: 'Progress output on stderr' })
      .option('output', { alias: 'o', type: 'string', array: true, nargs: 1, default: [], describe: 'Also write the image: type=oci|docker|tar,dest=FILE (- for stdout), type=docker alone (as --load), type=local,dest=DIR, type=registry,name=REF (push), or the build: type=archive,dest=FILE' })
      .option('archive', { type: 'string', describe: 'Write the whole build environment, step by step, to this OCI archive (for replay, shell, diff)' })
      .option('archive-cache-mounts', { type: 'boolean', default: false, describe: 'With --archive: also archive the contents of RUN --mount=type=cache dirs' })
      .option('platform', { type: 'string', describe: 'Target platform os/arch[/variant] (default: this host)' })
      .option('secret', { type: 'string', array: true, nargs: 1, default: [], describe: 'Give RUN --mount=type=secret a secret: id=ID,src=FILE or id=ID,env=VAR' })
      .option('ssh', { type: 'string', array: true, nargs: 1, default: [], describe: 'Give RUN --mount=type=ssh an agent: default (your $SSH_AUTH_SOCK), ID=SOCKET or ID=KEYFILE[,KEYFILE…] (repeatable)' })
      .option('build-context', { type: 'string', array: true, nargs: 1, default: [], describe: 'Name another context NAME=DIR, NAME=<git URL> or NAME=docker-image://REF, for FROM NAME and COPY --from=NAME (repeatable)' })
      .option('label', { type: 'string', array: true, nargs: 1, default: [], describe: 'Add an image label K=V (repeatable)' })
      .option('annotation', { type: 'string', array: true, nargs: 1, default: [], describe: 'Add an OCI annotation KEY=VALUE (on the manifest) or TYPE:KEY=VALUE, TYPE manifest, manifest-descriptor or index (repeatable)' })
      .option('load', { type: 'boolean', default: false, describe: 'Also load the image into the Docker daemon at $DOCKER_HOST (unix:// only)' })
      .option('provenance', { type: 'string', describe: 'Accepted as false (tsbuild attaches no attestations; --archive carries the provenance)' })
      .option('sbom', { type: 'string', describe: 'Accepted as false (tsbuild attaches no SBOM)' })
      .option('attest', { type: 'string', array: true, nargs: 1, default: [], describe: 'Accepted when disabled: type=provenance|sbom,disabled=true' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print only the image digest; no progress' })
      .option('iidfile', { type: 'string', describe: 'Write the image digest to this file' })
      .option('metadata-file', { type: 'string', describe: 'Write build results (digests, names) as JSON to this file' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Print the plan (stages, steps, final config) and build nothing' })
      .option('pull', { type: 'boolean', describe: 'Pull every base image again; --pull=false never pulls (offline). Default: pull only base images missing from the store' })
      .option('cache-from', { type: 'string', array: true, nargs: 1, default: [], describe: 'Import a build cache: type=registry,ref=REF or type=local,src=DIR (repeatable)' })
      .option('cache-to', { type: 'string', array: true, nargs: 1, default: [], describe: 'Export the build cache: type=registry,ref=REF[,mode=max] or type=local,dest=DIR[,mode=max] (repeatable)' })
      .option('push', { type: 'boolean', default: false, describe: 'Push the image to its -t names (same as --output type=registry)' }),
  async handler(args, ctx) {
    refuseAttestations(args);
    const fromStdin = await recipeFromStdin(args.file, args.context, ctx.stdin);
    try {
      const { recipeText, contextDir } = fromStdin;
      return await runBuild(args, ctx, { ...buildOptions(args, ctx), ...(contextDir ? { contextDir } : {}), recipeText });
    } finally {
      await fromStdin.release();
    }
  },
};

async function runBuild(args: BuildArgs & GlobalOptions, ctx: CliContext, options: BuildOptions): Promise<number> {
  if (args.dryRun) {
    ctx.stdout.write(formatPlanText(await planContext(options)));
    return 0;
  }
  const mode = args.quiet && args.progress === 'auto' ? 'quiet' : chooseProgressMode(args.progress, ctx.stderrIsTTY);
  const columns = (ctx.stderr as { columns?: number }).columns;
  const rows = (ctx.stderr as { rows?: number }).rows;
  const renderer = createRenderer(mode, { out: ctx.stderr, color: ctx.stderrIsTTY && !ctx.env.NO_COLOR, columns, rows });
  let result: BuildResult;
  let reported = false;
  const sink: EventSink = (event) => {
    if (event.type === 'build.error') reported = true;
    renderer.sink(event);
  };
  try {
    result = await build(options, sink);
  } catch (error) {
    // The renderer has shown this failure (build.error); main() printing it again would say
    // it twice, and in json mode put a non-event line on stderr. Bugs still get their stack.
    if (reported && mode !== 'quiet' && isTsbuildError(error) && !(error instanceof InternalError)) return error.exitCode;
    throw error;
  } finally {
    await renderer.finish();
  }
  await writeResults(args, ctx, result);
  return 0;
}

function buildOptions(args: BuildArgs & GlobalOptions, ctx: CliContext): BuildOptions {
  const fromGit = isGitUrl(args.context);
  return {
    ...(fromGit ? { contextGit: args.context } : { contextDir: contextDir(args.context, ctx.cwd) }),
    gitEnv: ctx.env,
    file: recipeFile(args.file, fromGit, ctx.cwd),
    storeRoot: args.root ?? defaultStoreRoot(ctx.env),
    tags: args.tag,
    buildArgs: buildArgValues(args.buildArg, ctx.env),
    target: args.target,
    noCache: !args.cache,
    noCacheStages: args.noCacheFilter.flatMap((value) => value.split(',')).filter(Boolean),
    ...(args.maxParallelism === undefined ? {} : { maxParallelism: positiveInteger('--max-parallelism', args.maxParallelism) }),
    network: args.network === 'host' ? 'host' : 'none',
    limits: {
      ...(args.memory === undefined ? {} : { memoryBytes: parseRamSize('--memory', lastOf(args.memory)!) }),
      ...(args.pids === undefined ? {} : { pids: positiveInteger('--pids', args.pids) }),
    },
    sandbox: parseSandboxFlags(args),
    platform: args.platform,
    labels: parsePairs('--label', args.label),
    annotations: args.annotation,
    load: args.load,
    dockerHost: ctx.env.DOCKER_HOST,
    secrets: parseSecrets(args.secret, ctx),
    ssh: parseSshSources(args.ssh, ctx),
    buildContexts: parsePairs('--build-context', args.buildContext),
    outputs: args.output,
    pull: args.pull === undefined ? 'missing' : args.pull ? 'always' : 'never',
    cacheFrom: args.cacheFrom,
    cacheTo: args.cacheTo,
    push: args.push,
    registry: registryOptions(args, ctx),
    stdout: ctx.stdout,
    ...(args.archive === undefined ? {} : { archive: args.archive, archiveCacheMounts: args.archiveCacheMounts }),
    cwd: ctx.cwd,
    sourceDateEpoch: parseSourceDateEpoch(ctx.env.SOURCE_DATE_EPOCH),
    signal: ctx.signal,
  };
}

/** A local context dir; a URL that names no git repository is refused here, not taken for a path. */
function contextDir(context: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(context)) {
    throw new UsageError(`${redactUrl(context)} is not a git repository URL: a context is a directory or a git URL`, {
      hint: 'an http(s) URL names a git repository when its path ends in .git (https://host/org/repo.git#ref:dir); download other files into a directory',
    });
  }
  return resolve(cwd, context);
}

/** `-f`: relative to the current dir, except with a git context, where it names a file of the repository (as in buildx). */
function recipeFile(file: string | undefined, fromGit: boolean, cwd: string): string | undefined {
  if (file === undefined || file === STDIN_ARG) return undefined;
  return fromGit && !isAbsolute(file) ? file : resolve(cwd, file);
}

function positiveInteger(flag: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new UsageError(`${flag} must be a positive integer, not ${value}`);
  return value;
}

async function writeResults(args: BuildArgs, ctx: CliContext, result: BuildResult): Promise<void> {
  if (args.quiet) ctx.stdout.write(`${result.digest}\n`);
  if (args.iidfile) await writeFile(resolve(ctx.cwd, args.iidfile), result.digest);
  if (args.metadataFile) {
    const metadata = {
      'containerimage.digest': result.digest,
      'containerimage.config.digest': result.configDigest,
      'containerimage.descriptor': result.image.manifestDescriptor,
      ...(result.names.length ? { 'image.name': result.names.join(',') } : {}),
    };
    await writeFile(resolve(ctx.cwd, args.metadataFile), JSON.stringify(metadata, null, 2) + '\n');
  }
}
