// Heredocs (`<<EOF`, `<<-EOF`, `<<'EOF'`): the markers are found in the logical line, the
// bodies are the physical lines that follow it, one after another in marker order.

import { RecipeError } from '../errors.js';
import type { HeredocSource } from './types.js';
import { expandWord, expandWords } from './lexer.js';
import { positionAt, type LogicalLine } from './logical-line.js';
import { splitQuotedWords } from './words.js';

interface Marker {
  name: string;
  quoted: boolean;
  chomp: boolean;
  /** Index in the logical line of the `<<`. */
  offset: number;
}

const EMPTY_ENV: ReadonlyMap<string, string> = new Map();
const MARKER = /^(\d*)<<(-?)([\s\S]+)$/;

/**
 * Finds heredoc markers as BuildKit does: a shell word (split with `\` as the escape, whatever
 * the recipe's escape) of the form `[fd]<<[-]WORD`, WORD being one word once quotes are
 * removed. Any quoting in WORD turns expansion off, as in the shell.
 */
export function findHeredocMarkers(text: string, from: number): Marker[] {
  const markers: Marker[] = [];
  for (const word of splitQuotedWords(text.slice(from), '\\')) {
    const match = MARKER.exec(word.text);
    if (!match) continue;
    const rest = match[3]!;
    let names: string[];
    try {
      names = expandWords(rest, EMPTY_ENV);
    } catch {
      continue;
    }
    if (names.length !== 1) continue;
    const name = names[0]!;
    const raw = expandWord(rest, EMPTY_ENV, { escape: '\\', skipQuotes: true });
    markers.push({ name, quoted: quoteCount(raw) !== quoteCount(name), chomp: match[2] === '-', offset: from + word.offset });
  }
  return markers;
}

function quoteCount(text: string): number {
  return (text.match(/['"]/g) ?? []).length;
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
