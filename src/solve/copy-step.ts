// COPY/ADD: the selected sources are copied into a fresh upper dir by exec's file copier;
// ADD extracts local tar archives there instead, and, when the build has the host network,
// fetches an http(s) URL (remote-source.ts) or checks out a git repository (git-source.ts) and
// copies that. Inline heredoc files are written to a scratch
// dir first and copied from it like any source. The content digest that completes the key
// comes from the same selection the copier walks (exec's hashCopySources).

import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { BuildError, LayerError } from '../errors.js';
import { copyIntoLayer } from '../exec/copy/copy.js';
import { detectCompression, isArchiveFile } from '../exec/copy/archive.js';
import { COPY_SOURCES_VERSION, hashCopySources } from '../exec/context/hash.js';
import type { CopySource } from '../exec/copy/types.js';
import { LayeredRoot } from '../exec/layered-root.js';
import { resolveChown } from '../exec/users.js';
import { extractLayer } from '../layer/extract.js';
import type { CopyStep } from '../plan/types.js';
import type { Digest } from '../lib/digest.js';
import { localRecordKey } from '../store/cache.js';
import type { LayerRef } from '../store/types.js';
import { isFetchedSource, isGitUrl, parseGitUrl, redactUrl, type GitSource } from '../lib/git-url.js';
import { commitUpperDir } from './commit-layer.js';
import { fetchGitSource, gitSourceDigest } from './git-source.js';
import type { ImageState } from './image.js';
import { definitionDigest, type KeyValue } from './key.js';
import { fetchRemoteSource, remoteSourceDigest } from './remote-source.js';
import { localDir, scratchUpper, snapshotDirs, type BuildRuntime } from './runtime.js';

/** What an ADD fetches instead of reading local files. */
type RemoteSource = { kind: 'http'; url: string } | { kind: 'git'; source: GitSource };

/** Where the step reads from: the context dir, or the root of another stage or image. */
async function copySource(runtime: BuildRuntime, step: CopyStep, from: ImageState | undefined): Promise<CopySource> {
  const local = localDir(runtime, step.from);
  if (local) return local;
  if (!from) throw new Error(`COPY --from input missing for ${step.instruction}`);
  return { kind: 'layers', lowerDirs: await snapshotDirs(runtime, from) };
}

/** The content half of a COPY/ADD key: one digest over exactly what it would copy. */
export async function copyContentDigests(runtime: BuildRuntime, step: CopyStep, from: ImageState | undefined, signal?: AbortSignal): Promise<string[]> {
  const remote = fetchableRemote(runtime, step);
  if (remote?.kind === 'http') return [await remoteSourceDigest(step, remote.url, signal)];
  if (remote?.kind === 'git') return [await gitSourceDigest(runtime.gitRefs, step, remote.source, signal)];
  if (step.sources.length === 0) return [];
  const selection = { sources: step.sources, exclude: step.exclude, parents: step.parents, chown: step.chown, chmod: step.chmod };
  const hash = async () => hashCopySources({ source: await copySource(runtime, step, from), ...selection }, runtime.statCache);
  if (localDir(runtime, step.from) || !from) return [await hash()];
  return [await rememberedByLayers(runtime, from, selection, hash)];
}

/**
 * A digest over a stage's files, remembered under the stage's layer diffIDs: they fix every
 * byte and attribute of its tree (snapshots are never written in place), so a cached build does
 * not walk a large `COPY --from` source again. BuildKit keeps such checksums per snapshot too.
 */
async function rememberedByLayers(runtime: BuildRuntime, from: ImageState, selection: KeyValue, compute: () => Promise<Digest>): Promise<Digest> {
  const key = localRecordKey('copy-sources', definitionDigest({ version: COPY_SOURCES_VERSION, layers: from.layers.map((layer) => layer.diffId), selection }));
  const remembered = (await runtime.store.getCacheRecord(key))?.digest;
  if (remembered) return remembered;
  const digest = await compute();
  await runtime.store.putCacheRecord(key, { layer: null, digest, createdAt: new Date().toISOString() });
  return digest;
}

/**
 * `reuseFrom`: the snapshot of this step's layer from an earlier build on the same parent, whose
 * unchanged files are linked rather than copied (CopyRequest.reuseFrom).
 */
export async function copyStep(
  runtime: BuildRuntime,
  step: CopyStep,
  parent: ImageState,
  from: ImageState | undefined,
  reuseFrom?: string,
  signal?: AbortSignal,
): Promise<LayerRef | null> {
  const lowerDirs = await snapshotDirs(runtime, parent);
  const chown = step.chown === undefined ? undefined : await resolveChown(new LayeredRoot(lowerDirs), step.chown);
  const scratch = await scratchUpper(runtime, step.kind);
  try {
    const remote = fetchableRemote(runtime, step);
    const fetched = remote ? await fetchRemote(runtime, step, remote, join(scratch.path, 'remote'), signal) : undefined;
    const source: CopySource = fetched?.source ?? (await copySource(runtime, step, from));
    const { archives, files } = fetched
      ? { archives: [], files: fetched.files }
      : step.kind === 'add' && source.kind === 'dir'
        ? await splitArchives(source.path, step.sources)
        : { archives: [], files: step.sources };
    const request = {
      dest: step.dest, workdir: step.config.workdir || '/', lowerDirs, upperDir: scratch.upperDir,
      chown, chmod: step.chmod, link: step.link, exclude: step.exclude, parents: step.parents, reuseFrom,
    };
    if (files.length > 0) await copyIntoLayer({ ...request, source, sources: files });
    if (step.heredocs.length > 0) {
      const inline = join(scratch.path, 'heredocs');
      await mkdir(inline);
      for (const heredoc of step.heredocs) await writeFile(join(inline, heredoc.name), heredoc.content, { mode: 0o644 });
      await copyIntoLayer({ ...request, source: { kind: 'dir', path: inline }, sources: step.heredocs.map((h) => h.name) });
    }
    for (const archive of archives) await extractArchive(archive, join(scratch.upperDir, posix.resolve('/', step.dest)));
    return await commitUpperDir(runtime.store, scratch.upperDir, { sourceDateEpoch: runtime.sourceDateEpoch, kind: 'overlay-upper' });
  } finally {
    await scratch.release();
  }
}

/** A local directory's files (as root's) as one layer: FROM a named context. */
export async function contextLayer(runtime: BuildRuntime, source: CopySource): Promise<LayerRef | null> {
  const scratch = await scratchUpper(runtime, 'context');
  try {
    await copyIntoLayer({
      source, sources: ['/'], exclude: [], parents: false, dest: '/', workdir: '/', lowerDirs: [], upperDir: scratch.upperDir, link: false,
    });
    return await commitUpperDir(runtime.store, scratch.upperDir, { sourceDateEpoch: runtime.sourceDateEpoch, kind: 'overlay-upper' });
  } finally {
    await scratch.release();
  }
}

/** ADD sources that name a local tar archive (plain or compressed) are extracted, not copied. */
async function splitArchives(contextDir: string, sources: string[]): Promise<{ archives: string[]; files: string[] }> {
  const root = new LayeredRoot([contextDir], { overlayMarkers: false });
  const archives: string[] = [];
  const files: string[] = [];
  for (const source of sources) {
    // Wildcards and anything outside the context go to the copier, which reports them.
    const resolved = /[*?[]/.test(source) ? undefined : await root.resolve(source, { onEscape: () => undefined }).catch(() => undefined);
    const entry = resolved === undefined ? undefined : await root.lookup(resolved);
    if (entry?.stats.isFile() && (await isArchiveFile(entry.hostPath))) archives.push(entry.hostPath);
    else files.push(source);
  }
  return { archives, files };
}

async function extractArchive(hostPath: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true, mode: 0o755 });
  try {
    // As in Docker, `.wh.` entries delete what the image has below: in the upper dir that takes
    // overlay whiteouts, which the commit turns into the layer's OCI whiteouts.
    await extractLayer(await decompressedArchive(hostPath), dest, { whiteouts: 'overlay', mediaType: 'ADD archive' });
  } catch (error) {
    // A hostile or broken archive is the recipe's input: report it at the ADD line.
    if (!(error instanceof LayerError)) throw error;
    throw new BuildError(error.code, `${posix.basename(hostPath)}: ${error.message}`, { hint: 'the archive is malformed or hostile; nothing of it was added', cause: error });
  }
}

/** The layer extractor reads tar, gzip and zstd itself; bzip2 and xz go through the system tools. */
async function decompressedArchive(hostPath: string): Promise<Readable> {
  const head = Buffer.alloc(8);
  const stream = createReadStream(hostPath, { start: 0, end: 7 });
  let offset = 0;
  for await (const chunk of stream) offset += (chunk as Buffer).copy(head, offset);
  const compression = detectCompression(head);
  if (compression !== 'bzip2' && compression !== 'xz') return createReadStream(hostPath);
  const tool = compression === 'xz' ? 'xz' : 'bzip2';
  const child = spawn(tool, ['-dc', hostPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  // Read from the start: Node discards the unread output of a child that has exited, so a
  // fast xz could otherwise leave an empty stream. The output ends only once the tool is known
  // to have succeeded, so a failure is never mistaken for an empty archive.
  const output = new PassThrough();
  child.stdout.pipe(output, { end: false });
  const fail = (why: string) =>
    output.destroy(new BuildError('E_ADD_ARCHIVE', `cannot decompress ${hostPath} with ${tool}: ${why}`, {
      hint: `install ${tool === 'xz' ? 'xz-utils' : 'bzip2'} (scripts/setup.sh does), or add an uncompressed or gzip tar`,
    }));
  child.on('error', (error) => fail(error.message));
  child.on('close', (code, signal) => {
    if (code === 0) output.end();
    else fail(stderr.trim() || (signal ? `killed by ${signal}` : `exit status ${code}`));
  });
  return output;
}

/**
 * Fetches what an ADD names into `dir`: an http(s) file is copied as that one file, a git
 * checkout as a directory's contents.
 */
async function fetchRemote(runtime: BuildRuntime, step: CopyStep, remote: RemoteSource, dir: string, signal?: AbortSignal): Promise<{ source: CopySource; files: string[] }> {
  if (remote.kind === 'http') return { source: { kind: 'dir', path: dir }, files: [await fetchRemoteSource(step, remote.url, dir, signal)] };
  return { source: { kind: 'dir', path: await fetchGitSource(runtime.gitRefs, step, remote.source, dir, signal) }, files: ['.'] };
}

/** The one http(s) URL or git repository an ADD fetches; any other remote source is an error, said clearly. */
function fetchableRemote(runtime: BuildRuntime, step: CopyStep): RemoteSource | undefined {
  const url = step.sources.find(isFetchedSource);
  if (url === undefined) return undefined;
  const network = runtime.keyContext.network;
  if (step.kind === 'add' && network === 'host' && step.sources.length === 1) {
    return isGitUrl(url) ? { kind: 'git', source: parseGitUrl(url) } : { kind: 'http', url };
  }
  throw remoteAddError(step, redactUrl(url), network);
}

function remoteAddError(step: CopyStep, url: string, network: 'none' | 'host'): BuildError {
  if (step.kind === 'copy') {
    return new BuildError('E_COPY_REMOTE_SOURCE', `COPY cannot fetch ${url}: COPY only reads local files`, {
      location: step.location,
      hint: 'use ADD for URLs, or download the file in a RUN step',
    });
  }
  if (network === 'none') {
    return new BuildError('E_ADD_REMOTE_NO_NETWORK', `ADD ${url} needs the network, and this build runs with --network none`, {
      location: step.location,
      hint: isGitUrl(url) ? 'clone the repository into the build context and ADD it from there' : 'download the file into the build context and ADD it from there',
    });
  }
  return new BuildError('E_ADD_REMOTE', `ADD ${url}: a URL among other sources is not supported`, {
    location: step.location,
    hint: 'ADD each URL or repository in its own instruction',
  });
}
