// Extended attributes for the copier and the layered view. Node has no xattr API, so these
// run Debian's `attr` tools a few times per copy, never once per file: `getfattr --dump`
// over many paths (or a whole tree), `setfattr --restore` for many paths. Symlinks are never
// followed. (src/layer has the same need; the layer rule keeps exec from importing it.)

import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { BuildError } from '../../errors.js';

const execFileAsync = promisify(execFile);

export type Xattrs = Map<string, Buffer>;

/** Total argv bytes per getfattr run, well under the kernel's ARG_MAX. */
const ARGV_BUDGET = 96 * 1024;

/**
 * The xattrs of `paths` (recursively below them with `recursive`), by path, for names
 * matching `pattern` (a getfattr regex). Paths without a matching attribute are absent.
 */
export async function readXattrs(paths: readonly string[], options: { recursive?: boolean; pattern?: string } = {}): Promise<Map<string, Xattrs>> {
  const result = new Map<string, Xattrs>();
  const base = [...(options.recursive ? ['-R'] : []), '-P', '-h', '-d', '-m', options.pattern ?? '-', '-e', 'hex', '--absolute-names', '--'];
  for (const chunk of chunksByLength(paths)) {
    let stdout: string;
    try {
      ({ stdout } = await execFileAsync('getfattr', [...base, ...chunk], { maxBuffer: 256 << 20 }));
    } catch (error) {
      throw new BuildError('E_XATTR', `reading extended attributes failed: ${(error as { stderr?: string }).stderr?.trim() || String(error)}`, {
        hint: "install Debian's attr package (scripts/setup.sh does)",
      });
    }
    parseDump(stdout, result);
  }
  return result;
}

/** Sets the given xattrs with one `setfattr --restore`, not following symlinks. */
export async function writeXattrs(targets: ReadonlyMap<string, Xattrs>): Promise<void> {
  if (targets.size === 0) return;
  const lines: string[] = [];
  for (const [path, xattrs] of targets) {
    lines.push(`# file: ${escapeBytes(path)}`);
    for (const [name, value] of xattrs) lines.push(`${escapeBytes(name)}=0x${value.toString('hex')}`);
    lines.push('');
  }
  const child = spawn('setfattr', ['-h', '--restore=-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin.on('error', () => {
    // setfattr exited early; its status and stderr say why
  });
  child.stdin.end(lines.join('\n') + '\n');
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve(status ?? 1));
  });
  if (code !== 0) throw new BuildError('E_XATTR', `setting extended attributes failed: ${stderr.trim()}`);
}

function parseDump(text: string, into: Map<string, Xattrs>): void {
  let current: Xattrs | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      into.set(unescapeBytes(line.slice('# file: '.length)), current);
    } else if (line !== '' && current) {
      const equals = line.indexOf('=');
      const name = unescapeBytes(equals < 0 ? line : line.slice(0, equals));
      const value = equals < 0 ? '' : line.slice(equals + 1);
      current.set(name, value.startsWith('0x') ? Buffer.from(value.slice(2), 'hex') : Buffer.from(value.replace(/^"|"$/g, ''), 'utf8'));
    }
  }
}

function* chunksByLength(paths: readonly string[]): Generator<string[]> {
  let chunk: string[] = [];
  let length = 0;
  for (const path of paths) {
    if (chunk.length > 0 && length + path.length + 1 > ARGV_BUDGET) {
      yield chunk;
      chunk = [];
      length = 0;
    }
    chunk.push(path);
    length += Buffer.byteLength(path) + 1;
  }
  if (chunk.length > 0) yield chunk;
}

/** The attr tools' quoting: bytes outside a safe set as `\ooo`, and `\\`. */
function escapeBytes(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9/._+,:@-]/.test(char) ? char : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}

function unescapeBytes(text: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(text, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const octal = raw.toString('latin1', i + 1, i + 4);
    if (raw[i] === 0x5c && /^[0-7]{3}$/.test(octal)) {
      bytes.push(parseInt(octal, 8));
      i += 3;
    } else if (raw[i] === 0x5c && raw[i + 1] === 0x5c) {
      bytes.push(0x5c);
      i += 1;
    } else bytes.push(raw[i]!);
  }
  return Buffer.from(bytes).toString('utf8');
}
