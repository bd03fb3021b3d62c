// The contract between solve/ and the COPY/ADD file operations: plain data and paths.

/** Which build-context paths .dockerignore removes; relative paths use `/`, no leading `./`. */
export interface ContextFilter {
  isExcluded(relPath: string): boolean;
  /**
   * Whether an excluded dir may still hold included paths (a `!` exception below it). When
   * absent or false for a dir, an excluded dir is skipped without being walked.
   */
  mayIncludeBelow?(relDir: string): boolean;
}

export type CopySource =
  /** The build context: a plain host dir. Its files are owned by 0:0 in the image. */
  | { kind: 'dir'; path: string; filter?: ContextFilter }
  /** Another stage's or image's root: snapshot dirs, bottom first. Owners are kept. */
  | { kind: 'layers'; lowerDirs: string[] };

export interface CopySelection {
  source: CopySource;
  /** Sources as written in the recipe (after variable expansion), with `* ? []` wildcards. */
  sources: string[];
  /** `--exclude` patterns (.dockerignore syntax), relative to each source. */
  exclude: string[];
  /** `--parents`: keep each source's path (below a `/./` pivot when present). */
  parents: boolean;
}

export interface CopyRequest extends CopySelection {
  /** As written: absolute, or relative to `workdir`; a trailing `/` means "into this dir". */
  dest: string;
  workdir: string;
  /** The target root's lower dirs, bottom first, to see existing dirs and symlinks. */
  lowerDirs: string[];
  /** A fresh, empty dir that receives the result, in overlay upper-dir format. */
  upperDir: string;
  /** Numeric owner (resolve names first with resolveChown). */
  chown?: { uid: number; gid: number };
  /** Octal (`755`) or symbolic (`u+x,go=r`) mode. */
  chmod?: string;
  /** `--link`: the copy does not look at the target's lower dirs (own layer, rebasable). */
  link: boolean;
  /**
   * The upper dir an earlier run of this same COPY left (its snapshot, read-only): a file it
   * holds exactly as this copy would write it (content, mode, owner, mtime, xattrs) is
   * hard-linked from there instead of copied.
   */
  reuseFrom?: string;
  /**
   * ADD: each matched file that is a tar archive (plain or compressed, see isArchiveFile) is
   * handed to this extractor instead of being copied, with the host path of the destination
   * dir in the upper dir (created, resolved inside the root, as BuildKit does).
   */
  unpack?: (archiveHostPath: string, destHostDir: string) => Promise<void>;
}

export interface CopyResult {
  /** Entries written to the upper dir (files, dirs, symlinks, hardlinks), created parents included. */
  written: number;
  /** Bytes of regular-file content written (copied, or linked from `reuseFrom`). */
  bytes: number;
}
