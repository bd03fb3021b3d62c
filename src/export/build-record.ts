// What a build archive records besides images: the plain data the engine hands to the archive
// writer, and what replay reads back (as `build.json` in the archive).

import type { StepInfo } from '../events.js';
import type { Digest } from '../lib/digest.js';
import type { SandboxSettings } from '../lib/sandbox-settings.js';
import type { GitOrigin } from '../lib/git-url.js';
import type { StoredImage } from '../store/types.js';

/**
 * The version of `build.json` this tsbuild writes. Each version only adds fields, so a reader
 * reads every version up to its own: 1 (the first), 2 (`namedContexts`), 3 (`sandbox`), 4
 * (`manifestAnnotations`). Fields
 * replay does not read (`contextGit`, a named dir's `git`: where files it has anyway came from)
 * need none.
 */
export const BUILD_RECORD_VERSION = 4;

/** A step as the progress events name it, and what the archive keeps of it. */
export interface ArchivedStep extends StepInfo {
  /** False for steps that used the network: not expected to replay bit for bit. */
  hermetic: boolean;
  cached: boolean;
  /** The environment after this step: its layers and the config the step saw. */
  image: StoredImage;
  /** The step's whole output, when it ran in this build or an earlier one kept it. */
  logFile?: string;
  /** `ADD <url>`: the URL (credentials removed) and its content digest or `git-commit:<sha>`. */
  fetched?: { uri: string; digest: string };
}

export interface BuildRecord {
  /** The recipe as read: its path relative to the context (or its base name) and text. */
  recipe: { name: string; content: string };
  /** The .dockerignore that applied, if any. */
  ignoreFile?: { name: string; content: string };
  contextDir: string;
  /** Set when the context was a git repository: its URL and commit (its files are the context's). */
  contextGit?: GitOrigin;
  /** Context files after .dockerignore, relative to the context, sorted. */
  contextFiles: string[];
  /** `--build-context NAME=…`, by name; empty when none were given. */
  namedContexts: NamedContextRecord[];
  target?: string;
  /** Resolved build args the recipe used (never secrets). */
  buildArgs: Record<string, string>;
  /** `--label K=V`: part of the final image's config, so replay needs them to make the same image. */
  labels: Record<string, string>;
  /** `--annotation` values on the image manifest: part of the image digest, so replay needs them too. */
  manifestAnnotations: Record<string, string>;
  platform: string;
  network: 'none' | 'host';
  /** `--add-host`, `--shm-size`, `--ulimit`: they change what RUN steps make, so replay needs them. */
  sandbox: SandboxSettings;
  sourceDateEpoch: number;
  /** The base images as the build resolved them; replay rebuilds from these alone. */
  baseImages: Array<{ ref: string; image: StoredImage }>;
  versions: { tsbuild: string; helper: string; kernel: string; node: string };
  startedOn: string;
  finishedOn: string;
  steps: ArchivedStep[];
  final: StoredImage;
  names: string[];
  /** `--archive-cache-mounts`: cache mount id → directory with its contents. */
  cacheMounts?: Array<{ id: string; dir: string }>;
}

/**
 * A named context as the build read it: a local dir (with its files after its own
 * .dockerignore, like the main context's) or the image ref a `docker-image://` value named.
 */
export type NamedContextRecord =
  | { kind: 'dir'; name: string; dir: string; files: string[]; git?: GitOrigin }
  | { kind: 'image'; name: string; ref: string };

/** A named context in `build.json`: a dir's files are the archive blob `context`; an image is one of the base images. */
export type ArchivedNamedContext =
  | { kind: 'dir'; name: string; context: Digest; git?: GitOrigin }
  | { kind: 'image'; name: string; ref: string };

/** `build.json` in the archive: the record without host paths and store objects. */
export interface ArchivedBuildInfo {
  /** 1 … BUILD_RECORD_VERSION; a field added in a later version is absent from earlier ones. */
  version: number;
  recipe: string;
  ignoreFile?: string;
  target?: string;
  buildArgs: Record<string, string>;
  /** Since version 2: `--label` values (absent: none were given). */
  labels?: Record<string, string>;
  /** Since version 4: the manifest's `--annotation` values (absent: none were given). */
  manifestAnnotations?: Record<string, string>;
  platform: string;
  network: 'none' | 'host';
  /** Since version 3: `--add-host`, `--shm-size`, `--ulimit` (absent: none were given). */
  sandbox?: SandboxSettings;
  sourceDateEpoch: number;
  baseImages: Array<{ ref: string; digest: Digest }>;
  versions: BuildRecord['versions'];
  startedOn: string;
  finishedOn: string;
  names: string[];
  final: Digest;
  steps: Array<Omit<ArchivedStep, 'image' | 'logFile'> & { manifest: Digest; diffIds: Digest[]; log?: string }>;
  cacheMounts: string[];
  /** The git repository and commit the context was checked out from (absent: a local dir). */
  contextGit?: GitOrigin;
  /** Since version 2: the `--build-context` values by name (absent: the build had none). */
  namedContexts?: ArchivedNamedContext[];
}
