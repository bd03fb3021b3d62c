// Heredocs (`<<EOF`, `<<-EOF`, `<<'EOF'`): the markers are found in the logical line, the
// bodies are the physical lines that follow it, one after another in marker order.

import { RecipeError } from '../errors.js';
import type { HeredocSource } from './types.js';
import { positionAt, type LogicalLine } from './logical-line.js';

interface Marker {
  name: string;
  quoted: boolean;
  chomp: boolean;
  /** Index in the logical line of the `<<`. */
  offset: number;
}

// `<<` then optional `-`, then a delimiter word, bare or in quotes.
const MARKER = /^<<(-?)(?:'([^']+)'|"([^"]+)"|([A-Za-z0-9_][A-Za-z0-9_.-]*))/;

/** Finds heredoc markers in words outside quotes, from `from` on. */
export function findHeredocMarkers(text: string, from: number, escape: string): Marker[] {
  const markers: Marker[] = [];
  let quote: string | undefined;
  let wordStart = true;
  for (let i = from; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === escape && quote === '"') i++;
      wordStart = false;
      continue;
    }
    if (ch === escape) {
      i++;
      wordStart = false;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      wordStart = false;
      continue;
    }
    if (/\s/.test(ch)) {
      wordStart = true;
      continue;
    }
    if (wordStart && ch === '<') {
      const match = MARKER.exec(text.slice(i));
      if (match) {
        const quotedName = match[2] ?? match[3];
        markers.push({ name: quotedName ?? match[4]!, quoted: quotedName !== undefined, chomp: match[1] === '-', offset: i });
        i += match[0].length - 1;
      }
    }
    wordStart = false;
  }
  return markers;
}

export interface HeredocBodies {
  heredocs: HeredocSource[];
  nextLine: number;
}

/** Reads the bodies of `markers` from `lines[logical.nextLine]` on. */
export function readHeredocBodies(
  lines: readonly string[],
  logical: LogicalLine,
  markers: Marker[],
  file: string,
  source: string,
): HeredocBodies {
  const heredocs: HeredocSource[] = [];
  let index = logical.nextLine;
  for (const marker of markers) {
    const location = { file, ...positionAt(logical, marker.offset) };
    const body: string[] = [];
    let terminated = false;
    while (index < lines.length) {
      const raw = lines[index++]!;
      const line = marker.chomp ? raw.replace(/^\t+/, '') : raw;
      if (line === marker.name) {
        terminated = true;
        break;
      }
      body.push(line);
    }
    if (!terminated) {
      throw new RecipeError('E_RECIPE_HEREDOC', `unterminated heredoc <<${marker.name}: no line "${marker.name}" closes it`, location, {
        source,
        hint: `End the heredoc with a line holding only ${marker.name}${marker.chomp ? ' (leading tabs allowed)' : ''}.`,
      });
    }
    heredocs.push({
      name: marker.name,
      content: body.map((line) => line + '\n').join(''),
      quoted: marker.quoted,
      chomp: marker.chomp,
      location,
    });
  }
  return { heredocs, nextLine: index };
}
