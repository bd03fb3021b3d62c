// `--output` as buildx spells it (`type=oci,dest=out.tar`), and the exporter for each type.
// An output file appears complete or not at all: it is written beside its destination and
// renamed into place.

import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { UsageError } from '../errors.js';
import { tempPathBeside } from '../lib/atomic.js';
import type { ContentStore, StoredImage } from '../store/types.js';
import { writeDockerArchive, writeOciArchive, type ArchiveOptions } from './image-archive.js';

export type ArchiveWriter = (store: ContentStore, image: StoredImage, out: Writable, options: ArchiveOptions) => Promise<void>;

/** Exporters by output type. */
export const ARCHIVE_EXPORTERS: Record<string, ArchiveWriter> = {
  oci: writeOciArchive,
  docker: writeDockerArchive,
};

export interface OutputSpec {
  type: string;
  /** Absolute destination path. */
  dest: string;
  attrs: Record<string, string>;
}

/** Parses one `--output` value; relative `dest` resolves against `cwd`. */
export function parseOutputSpec(text: string, cwd: string): OutputSpec {
  const attrs: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      throw new UsageError(`invalid --output "${text}": expected key=value pairs such as type=oci,dest=image.tar`);
    }
    attrs[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const { type, dest, ...rest } = attrs;
  if (!type) throw new UsageError(`invalid --output "${text}": type= is missing`, { hint: `Supported types: ${Object.keys(ARCHIVE_EXPORTERS).join(', ')}.` });
  if (!ARCHIVE_EXPORTERS[type]) {
    throw new UsageError(`unsupported --output type "${type}"`, { hint: `Supported types: ${Object.keys(ARCHIVE_EXPORTERS).join(', ')}.` });
  }
  if (!dest) throw new UsageError(`invalid --output "${text}": dest= is missing`, { hint: `e.g. --output type=${type},dest=image.tar` });
  return { type, dest: resolve(cwd, dest), attrs: rest };
}

/** Writes `image` as `spec` says; the destination appears only once complete. */
export async function writeOutput(spec: OutputSpec, store: ContentStore, image: StoredImage, options: ArchiveOptions): Promise<void> {
  const writer = ARCHIVE_EXPORTERS[spec.type];
  if (!writer) throw new UsageError(`unsupported --output type "${spec.type}"`);
  const temp = tempPathBeside(spec.dest);
  try {
    await writer(store, image, createWriteStream(temp, { mode: 0o644 }), options);
    await rename(temp, spec.dest);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
