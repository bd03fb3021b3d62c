// Content digests of files remembered by their stat identity (size, mtime, ctime, inode,
// device), so a warm build hashes only the files that changed. Advisory: a lost or stale
// cache file only costs re-reading, never a wrong digest, because any change to a file
// changes its ctime. Saved atomically; concurrent builds may overwrite each other's entries.

import { createHash } from 'node:crypto';
import { readFileSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../lib/atomic.js';
import { sha256File, type Digest } from '../../lib/digest.js';

const FORMAT = 1;

/**
 * A file modified within this window of being hashed may be modified again with the same
 * timestamps (the kernel stamps files with a coarse clock), so it is hashed but not remembered.
 */
const RACY_WINDOW_MS = 2_000;

/** Entries kept in the cache file before unused ones are dropped. */
const MAX_ENTRIES = 250_000;

/** Files up to this size are read whole; larger ones are streamed. */
const SMALL_FILE = 1 << 20;

interface CachedDigest {
  /** `size:mtimeMs:ctimeMs:ino:dev` (the ms values carry sub-ms digits) */
  id: string;
  digest: Digest;
}

export interface StatCacheOptions {
  /** Reads and hashes a file (tests count reads through it). */
  digestFile?: (hostPath: string, size: number) => Promise<Digest>;
  /** The wall clock in ms, for the racy-file rule. */
  now?: () => number;
  /** Entries kept in the file before unused ones are dropped (default 250,000). */
  maxEntries?: number;
  /** The context dir whose files it remembers, named in the file: prune drops it once the dir is gone. */
  contextDir?: string;
}

export class StatCache {
  /** Lookups answered from the cache, and files read, since this object was made. */
  hits = 0;
  misses = 0;
  private readonly entries: Map<string, CachedDigest>;
  /** Paths looked up since this object was made: what survives when the file grows too big. */
  private readonly seen = new Set<string>();
  private dirty = false;

  private readonly file: string | undefined;
  private readonly digestFile: (hostPath: string, size: number) => Promise<Digest>;
  private readonly now: () => number;
  private readonly maxEntries: number;
  private readonly contextDir: string | undefined;

  private constructor(file: string | undefined, entries: Map<string, CachedDigest>, options: StatCacheOptions) {
    this.file = file;
    this.entries = entries;
    this.digestFile = options.digestFile ?? defaultDigester;
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? MAX_ENTRIES;
    this.contextDir = options.contextDir;
  }

  /** Loads the cache file if it exists (a missing or unreadable one starts empty). */
  static async open(file?: string, options: StatCacheOptions = {}): Promise<StatCache> {
    const entries = new Map<string, CachedDigest>();
    if (file !== undefined) {
      try {
        const parsed = JSON.parse(await readFile(file, 'utf8')) as { format?: number; entries?: Record<string, CachedDigest> };
        if (parsed.format === FORMAT && parsed.entries) {
          for (const [path, value] of Object.entries(parsed.entries)) entries.set(path, value);
        }
      } catch {
        // no cache yet, or a damaged one: start empty
      }
    }
    return new StatCache(file, entries, options);
  }

  /** The sha256 of a regular file's content, from the cache when its stat identity is unchanged. */
  async digest(hostPath: string, stats: Stats): Promise<Digest> {
    const id = `${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}:${stats.ino}:${stats.dev}`;
    const cached = this.entries.get(hostPath);
    this.seen.add(hostPath);
    if (cached?.id === id) {
      this.hits++;
      return cached.digest;
    }
    this.misses++;
    const digest = await this.digestFile(hostPath, stats.size);
    if (this.now() - Math.max(stats.mtimeMs, stats.ctimeMs) > RACY_WINDOW_MS) {
      this.entries.set(hostPath, { id, digest });
      this.dirty = true;
    } else if (cached) {
      this.entries.delete(hostPath);
      this.dirty = true;
    }
    return digest;
  }

  /** Writes the cache file if anything changed. */
  async save(): Promise<void> {
    if (this.file === undefined || !this.dirty) return;
    // Entries of deleted files would pile up over months: past a size, only this build's stay.
    const kept = this.entries.size > this.maxEntries ? [...this.entries].filter(([path]) => this.seen.has(path)) : [...this.entries];
    const entries = Object.fromEntries(kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    await writeFileAtomic(this.file, JSON.stringify({ format: FORMAT, contextDir: this.contextDir, entries }));
    this.dirty = false;
  }
}

async function defaultDigester(hostPath: string, size: number): Promise<Digest> {
  // Small files are read synchronously: far cheaper than a stream per file (see layered-root.ts).
  if (size > SMALL_FILE) return (await sha256File(hostPath)).digest;
  return `sha256:${createHash('sha256').update(readFileSync(hostPath)).digest('hex')}`;
}
