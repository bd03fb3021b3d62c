// Joins an instruction's physical lines into one logical line, as Docker's parser does:
// an escape character at the end of a line continues it, and comment or blank lines inside a
// continuation are dropped. Every character remembers where it came from, so an error found
// after joining still points at the right line and column.

/** 1-based position in the recipe. */
export interface Position {
  line: number;
  column: number;
}

export interface LogicalLine {
  text: string;
  /** positions[i] is where text[i] was written; one extra entry marks the end. */
  positions: Position[];
  /** Index (0-based) of the first physical line after this logical line. */
  nextLine: number;
  /** 1-based numbers of blank lines inside the continuation (deprecated by Docker). */
  blankLines: number[];
}

const COMMENT_LINE = /^\s*#/;
const BLANK_LINE = /^\s*$/;

/**
 * Reads the logical line starting at `lines[start]` (0-based). `start` must hold the
 * instruction keyword; lines are the file split at `\n` with any `\r` kept off.
 */
export function readLogicalLine(lines: readonly string[], start: number, escape: string): LogicalLine {
  let text = '';
  const positions: Position[] = [];
  let index = start;
  const blankLines: number[] = [];
  for (;;) {
    const line = lines[index] ?? '';
    const lineNumber = index + 1;
    index++;
    const continued = continuationCut(line, escape);
    const kept = continued ?? line;
    for (let col = 0; col < kept.length; col++) positions.push({ line: lineNumber, column: col + 1 });
    text += kept;
    if (continued === undefined) break;
    // Comment and blank lines inside a continuation belong to no instruction.
    while (index < lines.length && (COMMENT_LINE.test(lines[index]!) || BLANK_LINE.test(lines[index]!))) {
      if (BLANK_LINE.test(lines[index]!)) blankLines.push(index + 1);
      index++;
    }
    if (index >= lines.length) break;
  }
  const last = positions[positions.length - 1];
  positions.push(last ? { line: last.line, column: last.column + 1 } : { line: start + 1, column: 1 });
  return { text, positions, nextLine: index, blankLines };
}

/** When the line ends with the escape character (trailing blanks allowed), the text before it. */
function continuationCut(line: string, escape: string): string | undefined {
  const trimmed = line.replace(/[ \t]+$/, '');
  if (!trimmed.endsWith(escape)) return undefined;
  return trimmed.slice(0, -escape.length);
}

/** The position of character `index` of a logical line. */
export function positionAt(logical: Pick<LogicalLine, 'positions'>, index: number): Position {
  const positions = logical.positions;
  return positions[Math.min(Math.max(index, 0), positions.length - 1)]!;
}
