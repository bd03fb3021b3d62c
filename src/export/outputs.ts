// `--output` as buildx spells it (`type=oci,dest=out.tar`), and the exporter for each type.
// An output file appears complete or not at all: it is written beside its destination and
// renamed into place.

import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { UsageError } from '../errors.js';
import { tempPathBeside } from '../lib/atomic.js';
import type { ContentStore, StoredImage } from '../store/types.js';
import { compressedLayer } from '../store/compressed-layers.js';
import type { Manifest } from '../layer/oci.js';
import { writeDockerArchive, writeOciArchive, type ArchiveOptions } from './image-archive.js';
import { writeRootfsDirectory, writeRootfsTar } from './rootfs.js';

export type ArchiveWriter = (store: ContentStore, image: StoredImage, out: Writable, options: ArchiveOptions) => Promise<void>;

/** Exporters by output type. */
export const ARCHIVE_EXPORTERS: Record<string, ArchiveWriter> = {
  oci: writeOciArchive,
  docker: writeDockerArchive,
  tar: (store, image, out, options) => writeRootfsTar(store, image, out, options.sourceDateEpoch ?? 0),
};

/** Outputs that are OCI image layouts: their index.json can carry index and descriptor annotations. */
const LAYOUT_OUTPUT_TYPES = ['oci', 'docker'];

export function isLayoutOutput(spec: OutputSpec): boolean {
  return LAYOUT_OUTPUT_TYPES.includes(spec.type);
}

/** `type=local`: the root filesystem as files in a directory (no stream, so not `dest=-`). */
export const LOCAL_OUTPUT_TYPE = 'local';

/** `dest=-`: the output streams to standard output. */
export const STDOUT_DEST = '-';

/** `type=archive` is the whole build (export/build-archive.ts), written by the build itself, not from an image. */
export const BUILD_ARCHIVE_TYPE = 'archive';
const OUTPUT_TYPES = [...Object.keys(ARCHIVE_EXPORTERS), LOCAL_OUTPUT_TYPE, BUILD_ARCHIVE_TYPE];

export interface OutputSpec {
  type: string;
  /** Absolute destination path. */
  dest: string;
  attrs: Record<string, string>;
}

/** Parses one `--output` value; relative `dest` resolves against `cwd`. */
export function parseOutputSpec(text: string, cwd: string): OutputSpec {
  const { type, dest, ...rest } = outputAttrs(text);
  if (!type) throw new UsageError(`invalid --output "${text}": type= is missing`, { hint: `Supported types: ${OUTPUT_TYPES.join(', ')}.` });
  if (!OUTPUT_TYPES.includes(type)) {
    throw new UsageError(`unsupported --output type "${type}"`, { hint: `Supported types: ${OUTPUT_TYPES.join(', ')}.` });
  }
  if (!dest) throw new UsageError(`invalid --output "${text}": dest= is missing`, { hint: `e.g. --output type=${type},dest=image.tar` });
  if (dest === STDOUT_DEST && type === LOCAL_OUTPUT_TYPE) throw new UsageError('--output type=local writes a directory: dest=- is not possible', { hint: 'use type=tar,dest=- for a tarball on stdout' });
  return { type, dest: dest === STDOUT_DEST ? dest : resolve(cwd, dest), attrs: rest };
}

/**
 * `type=docker` without `dest=`: buildx's long form of `--load` (the image into the Docker
 * daemon, with the `-t` names).
 */
export function isDockerLoadOutput(text: string): boolean {
  const { type, dest, ...rest } = outputAttrs(text);
  if (type !== 'docker' || dest !== undefined) return false;
  const other = Object.keys(rest)[0];
  if (other !== undefined) throw new UsageError(`--output "${text}": ${other}= is not supported when loading into Docker`, { hint: 'type=docker without dest= loads the image with its -t names; write -t NAME, or dest=FILE for an archive.' });
  return true;
}

function outputAttrs(text: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      throw new UsageError(`invalid --output "${text}": expected key=value pairs such as type=oci,dest=image.tar`);
    }
    attrs[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return attrs;
}

/** Writes `image` as `spec` says; the destination appears only once complete. */
export async function writeOutput(spec: OutputSpec, store: ContentStore, stored: StoredImage, options: ArchiveOptions & { stdout?: Writable }): Promise<void> {
  if (spec.type === LOCAL_OUTPUT_TYPE) return writeRootfsDirectory(store, stored, spec.dest);
  const writer = ARCHIVE_EXPORTERS[spec.type];
  if (!writer) throw new UsageError(`unsupported --output type "${spec.type}"`);
  const image = spec.type === 'tar' ? stored : await withCompression(store, stored, spec.attrs);
  if (spec.dest !== STDOUT_DEST) return writeFileAtomically(spec.dest, (out) => writer(store, image, out, options));
  if (!options.stdout) throw new UsageError('dest=- needs standard output, which this caller does not give');
  await writer(store, image, keepOpen(options.stdout), options);
}

/** A writer that passes data to `out` but leaves it open when it ends (stdout outlives one output). */
function keepOpen(out: Writable): Writable {
  return new Writable({
    write: (chunk, encoding, callback) => void out.write(chunk, encoding, callback),
  });
}

/** Streams into a temp file beside `dest` and renames it into place only when `write` succeeded. */
export async function writeFileAtomically(dest: string, write: (out: Writable) => Promise<void>): Promise<void> {
  const temp = tempPathBeside(dest);
  try {
    await write(createWriteStream(temp, { mode: 0o644 }));
    await rename(temp, dest);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * `compression=gzip|zstd[,compression-level=N]`: the image with its layers compressed (in
 * parallel, deterministically, each form kept in the store for next time); the config and so
 * the diffIDs are unchanged.
 */
async function withCompression(store: ContentStore, image: StoredImage, attrs: Record<string, string>): Promise<StoredImage> {
  const compression = attrs.compression;
  if (compression === undefined || compression === 'uncompressed') return image;
  if (compression !== 'gzip' && compression !== 'zstd') {
    throw new UsageError(`--output compression=${compression} is not supported`, { hint: 'use compression=gzip, compression=zstd or compression=uncompressed' });
  }
  const level = attrs['compression-level'] === undefined ? undefined : Number(attrs['compression-level']);
  if (level !== undefined && !(Number.isInteger(level) && level >= 0 && level <= (compression === 'gzip' ? 9 : 22))) {
    throw new UsageError(`--output compression-level=${attrs['compression-level']} is not a ${compression} level`, { hint: compression === 'gzip' ? 'gzip levels are 0 to 9' : 'zstd levels are 0 to 22' });
  }
  const layers = await Promise.all(image.manifest.layers.map((layer) => compressedLayer(store, layer, { compression, level })));
  const manifest: Manifest = { ...image.manifest, layers };
  return { manifestDescriptor: await store.putJson(manifest, image.manifestDescriptor.mediaType), manifest, config: image.config };
}
