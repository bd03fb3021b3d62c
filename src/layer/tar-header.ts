// The tar format, both ways: one 512-byte ustar header block per entry, preceded by a PAX
// extended header only when a value does not fit ustar (long names, big ids or sizes, xattrs).
// Written by hand rather than with tar-stream so that every byte of a layer is ours to pin:
// no uname/gname, no atime/ctime, numbers always octal with the same padding.

import { LayerError } from '../errors.js';

export const BLOCK = 512;

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

/** One tar entry as plain data; `path` has no leading `./` and directories no trailing `/`. */
export interface TarEntry {
  type: EntryType;
  path: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, name → raw value. */
  xattrs?: Map<string, Buffer>;
}

const TYPEFLAG: Record<EntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  directory: '5',
  fifo: '6',
};

// Largest values the octal ustar fields hold (7 and 11 digits).
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

/** The header blocks of one entry: an optional PAX header (+ its data) then the ustar block. */
export function encodeHeader(entry: TarEntry): Buffer {
  const name = entry.type === 'directory' ? `${entry.path}/` : entry.path;
  const nameBytes = Buffer.from(name, 'utf8');
  const linkBytes = Buffer.from(entry.linkname ?? '', 'utf8');
  const pax: [string, Buffer][] = [];
  if (nameBytes.length > 100) pax.push(['path', nameBytes]);
  if (linkBytes.length > 100) pax.push(['linkpath', linkBytes]);
  if (entry.uid > MAX_OCTAL_7) pax.push(['uid', Buffer.from(String(entry.uid))]);
  if (entry.gid > MAX_OCTAL_7) pax.push(['gid', Buffer.from(String(entry.gid))]);
  if (entry.size > MAX_OCTAL_11) pax.push(['size', Buffer.from(String(entry.size))]);
  for (const [key, value] of [...(entry.xattrs ?? [])].sort(([a], [b]) => compareBytes(a, b))) {
    pax.push([`SCHILY.xattr.${key}`, value]);
  }
  const ustar = ustarBlock({
    name: nameBytes.length > 100 ? nameBytes.subarray(0, 100) : nameBytes,
    mode: entry.mode & 0o7777,
    uid: Math.min(entry.uid, MAX_OCTAL_7),
    gid: Math.min(entry.gid, MAX_OCTAL_7),
    size: entry.size > MAX_OCTAL_11 ? 0 : entry.size,
    mtime: entry.mtime,
    typeflag: TYPEFLAG[entry.type],
    linkname: linkBytes.length > 100 ? linkBytes.subarray(0, 100) : linkBytes,
    devmajor: entry.devmajor ?? 0,
    devminor: entry.devminor ?? 0,
  });
  if (pax.length === 0) return ustar;
  const records = paxRecords(pax);
  const paxHeader = ustarBlock({
    // Fixed, content-free name for the extended header: the same entry always encodes the same.
    name: Buffer.from('PaxHeader'),
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: records.length,
    mtime: 0,
    typeflag: 'x',
    linkname: Buffer.alloc(0),
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([paxHeader, records, Buffer.alloc(padding(records.length)), ustar]);
}

/** The two zero blocks that end an archive. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The fields of one ustar header block, before PAX/GNU records override them. */
export interface UstarFields {
  name: Buffer;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: Buffer;
  devmajor: number;
  devminor: number;
}

function ustarBlock(fields: UstarFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  fields.name.copy(block, 0);
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 108, 8, fields.uid);
  writeOctal(block, 116, 8, fields.gid);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, fields.mtime);
  block.write(fields.typeflag, 156, 'latin1');
  fields.linkname.copy(block, 157);
  block.write('ustar\u000000', 257, 'latin1');
  writeOctal(block, 329, 8, fields.devmajor);
  writeOctal(block, 337, 8, fields.devminor);
  block.fill(0x20, 148, 156);
  writeOctal(block, 148, 7, checksum(block));
  return block;
}

/** Zero-padded octal digits followed by a NUL, filling `width` bytes. */
function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'latin1');
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  return sum;
}

/** `"<len> <key>=<value>\n"` records, where len counts the whole record including itself. */
function paxRecords(pairs: [string, Buffer][]): Buffer {
  const parts = pairs.map(([key, value]) => {
    const rest = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
    let length = rest.length + 1;
    while (String(length).length + rest.length !== length) length = String(length).length + rest.length;
    return Buffer.concat([Buffer.from(String(length)), rest]);
  });
  return Buffer.concat(parts);
}

// ---- reading ----

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

export function decodeHeader(block: Buffer, offset: number): UstarFields {
  const stored = parseNumber(block, 148, 8, offset);
  const copy = Buffer.from(block);
  copy.fill(0x20, 148, 156);
  if (stored !== checksum(copy)) {
    throw new LayerError('E_LAYER_CORRUPT', `tar header at byte ${offset} has a bad checksum: not a tar stream, or a corrupt one`);
  }
  const magic = block.toString('latin1', 257, 263);
  const prefix = magic.startsWith('ustar') && magic !== 'ustar ' ? cString(block, 345, 155) : Buffer.alloc(0);
  const name = cString(block, 0, 100);
  return {
    name: prefix.length > 0 ? Buffer.concat([prefix, Buffer.from('/'), name]) : name,
    mode: parseNumber(block, 100, 8, offset),
    uid: parseNumber(block, 108, 8, offset),
    gid: parseNumber(block, 116, 8, offset),
    size: parseNumber(block, 124, 12, offset),
    mtime: parseNumber(block, 136, 12, offset),
    typeflag: block[156] === 0 ? '0' : String.fromCharCode(block[156]!),
    linkname: cString(block, 157, 100),
    devmajor: parseNumber(block, 329, 8, offset),
    devminor: parseNumber(block, 337, 8, offset),
  };
}

function cString(block: Buffer, offset: number, width: number): Buffer {
  const field = block.subarray(offset, offset + width);
  const end = field.indexOf(0);
  return Buffer.from(end === -1 ? field : field.subarray(0, end));
}

/** Octal (NUL/space terminated) or GNU base-256 (high bit set) numbers. */
function parseNumber(block: Buffer, offset: number, width: number, at: number): number {
  const field = block.subarray(offset, offset + width);
  if (field[0]! & 0x80) {
    if (field[0] === 0xff) throw new LayerError('E_LAYER_CORRUPT', `negative number in tar header at byte ${at}`);
    let value = field[0]! & 0x7f;
    for (let i = 1; i < width; i++) value = value * 256 + field[i]!;
    if (!Number.isSafeInteger(value)) throw new LayerError('E_LAYER_CORRUPT', `number too large in tar header at byte ${at}`);
    return value;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) {
    throw new LayerError('E_LAYER_CORRUPT', `tar header at byte ${at} has a malformed number ${JSON.stringify(text)}`);
  }
  return parseInt(text, 8);
}

/** Parses PAX records into key → raw value; malformed records are an error. */
export function parsePaxRecords(data: Buffer, offset: number): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    const length = space === -1 ? NaN : Number(data.toString('latin1', pos, space));
    if (!Number.isSafeInteger(length) || length <= space - pos || pos + length > data.length || data[pos + length - 1] !== 0x0a) {
      throw new LayerError('E_LAYER_CORRUPT', `malformed PAX record in the extended header at byte ${offset}`);
    }
    const record = data.subarray(space + 1, pos + length - 1);
    const equals = record.indexOf(0x3d);
    if (equals === -1) throw new LayerError('E_LAYER_CORRUPT', `PAX record without "=" at byte ${offset}`);
    records.set(record.toString('utf8', 0, equals), Buffer.from(record.subarray(equals + 1)));
    pos += length;
  }
  return records;
}
