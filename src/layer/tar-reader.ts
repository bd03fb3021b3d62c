// A streaming tar parser: yields one entry at a time and streams its body, so memory stays
// bounded whatever the archive holds. Extended headers (PAX, GNU long names) are the only
// thing buffered, and only up to MAX_EXTENDED_HEADER: a hostile 1 GB header is refused from
// its size field, before any of it is read.

import { LayerError } from '../errors.js';
import { BLOCK, decodeHeader, isZeroBlock, padding, parsePaxRecords, type EntryType, type UstarFields, type TarEntry } from './tar-header.js';

const MAX_EXTENDED_HEADER = 1 << 20;

const ENTRY_TYPES: Record<string, EntryType> = {
  '0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
};

export interface ReadEntry {
  entry: TarEntry;
  /** The entry's data; must be consumed (or left, and it is skipped) before the next entry. */
  body: AsyncGenerator<Buffer>;
  /** Byte offset of the entry's header in the uncompressed stream, for error messages. */
  offset: number;
}

/** Pulls exact byte counts out of a chunk stream. */
class ByteReader {
  private pending: Buffer = Buffer.alloc(0);
  offset = 0;
  private readonly iterator: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Exactly `n` bytes, or null at a clean end of stream. Chunks are joined once, not per arrival. */
  async read(n: number): Promise<Buffer | null> {
    if (this.pending.length < n) {
      const parts = [this.pending];
      let length = this.pending.length;
      while (length < n) {
        const next = await this.iterator.next();
        if (next.done) {
          if (length === 0) return null;
          throw truncated(this.offset + length);
        }
        parts.push(next.value);
        length += next.value.length;
      }
      this.pending = Buffer.concat(parts, length);
    }
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    this.offset += n;
    return out;
  }

  /** Bytes of the current body not yet taken by the consumer. */
  bodyLeft = 0;

  /** The next `n` bytes as they arrive. */
  body(n: number): AsyncGenerator<Buffer> {
    this.bodyLeft = n;
    return this.bodyChunks();
  }

  private async *bodyChunks(): AsyncGenerator<Buffer> {
    while (this.bodyLeft > 0) yield await this.take(this.bodyLeft, (taken) => (this.bodyLeft -= taken));
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) await this.take(left, (taken) => (left -= taken));
  }

  private async take(max: number, account: (taken: number) => void): Promise<Buffer> {
    if (this.pending.length === 0) {
      const next = await this.iterator.next();
      if (next.done) throw truncated(this.offset);
      this.pending = next.value;
    }
    const size = Math.min(max, this.pending.length);
    const out = this.pending.subarray(0, size);
    this.pending = this.pending.subarray(size);
    this.offset += size;
    account(size);
    return out;
  }

  /** Reads to the end so that a digest over the whole stream is complete. */
  async drain(): Promise<void> {
    this.pending = Buffer.alloc(0);
    while (!(await this.iterator.next()).done) {
      // discarded: only the digest over the whole stream needs these bytes
    }
  }
}

function truncated(offset: number): LayerError {
  return new LayerError('E_LAYER_CORRUPT', `tar stream ends in the middle of an entry (at byte ${offset})`, {
    hint: 'the layer is truncated; fetch it again',
  });
}

/** Entries of an uncompressed tar stream, PAX and GNU long names applied. */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<ReadEntry> {
  const reader = new ByteReader(source);
  let pax = new Map<string, Buffer>();
  let globalPax = new Map<string, Buffer>();
  let longName: Buffer | undefined;
  let longLink: Buffer | undefined;
  for (;;) {
    const offset = reader.offset;
    const block = await reader.read(BLOCK);
    if (block === null || isZeroBlock(block)) break;
    const raw = decodeHeader(block, offset);
    if ('xgLK'.includes(raw.typeflag)) {
      const data = await readExtended(reader, raw, offset);
      if (raw.typeflag === 'x') pax = parsePaxRecords(data, offset);
      else if (raw.typeflag === 'g') globalPax = new Map([...globalPax, ...parsePaxRecords(data, offset)]);
      else if (raw.typeflag === 'L') longName = cut(data);
      else longLink = cut(data);
      continue;
    }
    const records = new Map([...globalPax, ...pax]);
    const entry = toEntry(raw, records, longName ?? raw.name, longLink ?? raw.linkname, offset);
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    // Links, devices and directories carry no data whatever their size field says.
    const dataSize = entry.type === 'file' ? entry.size : 0;
    yield { entry, body: reader.body(dataSize), offset };
    // Whatever the consumer left of the body is skipped, as is the padding.
    await reader.skip(reader.bodyLeft + padding(dataSize));
    reader.bodyLeft = 0;
  }
  await reader.drain();
}

async function readExtended(reader: ByteReader, raw: UstarFields, offset: number): Promise<Buffer> {
  if (raw.size > MAX_EXTENDED_HEADER) {
    throw new LayerError(
      'E_LAYER_HEADER_TOO_LARGE',
      `extended tar header at byte ${offset} declares ${raw.size} bytes; at most ${MAX_EXTENDED_HEADER} are accepted`,
      { hint: 'the layer is malformed or hostile' },
    );
  }
  const data = (await reader.read(raw.size)) ?? Buffer.alloc(0);
  if (data.length < raw.size) throw truncated(reader.offset);
  await reader.skip(padding(raw.size));
  return Buffer.from(data);
}

/** GNU long names are NUL-terminated inside their data. */
function cut(data: Buffer): Buffer {
  const end = data.indexOf(0);
  return end === -1 ? data : data.subarray(0, end);
}

function toEntry(raw: UstarFields, pax: Map<string, Buffer>, name: Buffer, link: Buffer, offset: number): TarEntry {
  const type = ENTRY_TYPES[raw.typeflag];
  if (type === undefined) {
    throw new LayerError('E_LAYER_UNSUPPORTED', `tar entry at byte ${offset} has unsupported type ${JSON.stringify(raw.typeflag)}`, {
      hint: 'tsbuild reads regular files, directories, links, symlinks, devices and fifos',
    });
  }
  const fullPath = decodeName(pax.get('path') ?? name, offset);
  const path = fullPath.length > 1 ? fullPath.replace(/\/+$/, '') : fullPath;
  const linkname = decodeName(pax.get('linkpath') ?? link, offset);
  const xattrs = new Map<string, Buffer>();
  for (const [key, value] of pax) {
    if (key.startsWith('SCHILY.xattr.')) xattrs.set(key.slice('SCHILY.xattr.'.length), value);
  }
  const entry: TarEntry = {
    type: raw.typeflag === '0' && fullPath.endsWith('/') ? 'directory' : type,
    path,
    mode: raw.mode & 0o7777,
    uid: paxNumber(pax, 'uid', raw.uid, offset),
    gid: paxNumber(pax, 'gid', raw.gid, offset),
    size: paxNumber(pax, 'size', raw.size, offset),
    mtime: Math.floor(paxNumber(pax, 'mtime', raw.mtime, offset)),
  };
  if (type === 'link' || type === 'symlink') entry.linkname = linkname;
  if (type === 'char' || type === 'block') {
    entry.devmajor = raw.devmajor;
    entry.devminor = raw.devminor;
  }
  if (xattrs.size > 0) entry.xattrs = xattrs;
  return entry;
}

function decodeName(bytes: Buffer, offset: number): string {
  if (bytes.includes(0)) {
    throw new LayerError('E_LAYER_UNSAFE_PATH', `tar entry at byte ${offset} has a NUL byte in its name`);
  }
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    throw new LayerError('E_LAYER_UNSUPPORTED', `tar entry at byte ${offset} has a file name that is not UTF-8`, {
      hint: 'tsbuild handles UTF-8 file names only',
    });
  }
  return text;
}

function paxNumber(pax: Map<string, Buffer>, key: string, fallback: number, offset: number): number {
  const value = pax.get(key);
  if (value === undefined) return fallback;
  const text = value.toString('latin1');
  if (!/^-?\d+(\.\d+)?$/.test(text) || !Number.isSafeInteger(Math.trunc(Number(text)))) {
    throw new LayerError('E_LAYER_CORRUPT', `PAX ${key}=${JSON.stringify(text)} at byte ${offset} is not a number`);
  }
  const number = Number(text);
  if (number < 0 && key !== 'mtime') throw new LayerError('E_LAYER_CORRUPT', `PAX ${key} at byte ${offset} is negative`);
  return number;
}
