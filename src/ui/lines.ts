// Turning a step's output chunks into lines, with bounded memory: a partial line waits for its
// end, but never grows past a cap, and a tail keeps only the last few lines.

/** A partial line longer than this is emitted as a line of its own, so memory stays bounded. */
export const MAX_PARTIAL_CHARS = 64 * 1024;

/** Splits chunks into lines; `\n`, `\r\n` and a lone `\r` (progress bars) all end a line. */
export class LineBuffer {
  private partial = '';
  private pendingCR = false;

  /** The lines that `data` completes; the unterminated rest waits for the next chunk. */
  push(data: string): string[] {
    if (data === '') return [];
    if (this.pendingCR && data.startsWith('\n')) data = data.slice(1);
    this.pendingCR = data.endsWith('\r');
    const text = this.partial + data;
    const parts = text.includes('\r') ? text.split(/\r\n|\n|\r/) : text.split('\n');
    this.partial = parts.pop()!;
    if (this.pendingCR) {
      // The chunk ended in '\r': the split produced an empty remainder, and a '\n' may follow.
      this.partial = '';
    }
    if (this.partial.length > MAX_PARTIAL_CHARS) {
      parts.push(this.partial);
      this.partial = '';
    }
    return parts;
  }

  /** The unterminated rest, at the end of the step. */
  flush(): string | undefined {
    const rest = this.partial;
    this.partial = '';
    this.pendingCR = false;
    return rest === '' ? undefined : rest;
  }
}

/** The last `capacity` lines pushed, in O(1) amortised per line. */
export class LineTail {
  private lines: string[] = [];
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  push(lines: readonly string[]): void {
    const start = Math.max(0, lines.length - this.capacity);
    for (let i = start; i < lines.length; i++) this.lines.push(lines[i]!);
    if (this.lines.length >= this.capacity * 2) this.lines = this.lines.slice(-this.capacity);
  }

  toArray(): string[] {
    return this.lines.slice(-this.capacity);
  }
}
