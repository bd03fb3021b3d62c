// Splitting an instruction's arguments into words before expansion, the ways Docker's parser
// does: at whitespace only, or at whitespace outside quotes (keeping the quotes, which the
// lexer removes later), or as a JSON array.

export interface RawWord {
  text: string;
  /** Index of the word's first character in the text that was split. */
  offset: number;
}

/**
 * Splits at whitespace outside quotes; quotes and escapes stay in the words for the lexer. As
 * in Docker's parser, the escape character means nothing inside single quotes, and a
 * trailing one is dropped.
 */
export function splitQuotedWords(text: string, escape: string): RawWord[] {
  const words: RawWord[] = [];
  let current: RawWord | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (!quote && /\s/.test(ch)) {
      if (current) words.push(current);
      current = undefined;
      continue;
    }
    current ??= { text: '', offset: i };
    if (ch === escape && quote !== "'") {
      if (i + 1 < text.length) current.text += ch + text[++i];
      continue;
    }
    current.text += ch;
    if (quote && ch === quote) quote = undefined;
    else if (!quote && (ch === '"' || ch === "'")) quote = ch;
  }
  if (current) words.push(current);
  return words;
}

/** Splits at whitespace only, as Docker does for EXPOSE and the non-JSON COPY form. */
export function splitWhitespace(text: string): RawWord[] {
  return [...text.matchAll(/\S+/g)].map((match) => ({ text: match[0], offset: match.index }));
}

/** A JSON array holding something other than strings: Docker refuses it rather than run it as shell. */
export class JsonArrayError extends Error {}

/** The JSON-array form (`["a", "b"]`), or undefined when the text is not a JSON array. */
export function parseJsonArray(text: string): string[] | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((item) => typeof item === 'string')) {
    throw new JsonArrayError('when using JSON array syntax, arrays must be comprised of strings only');
  }
  return value as string[];
}
