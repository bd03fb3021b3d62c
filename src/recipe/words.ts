// Splitting an instruction's arguments into words before expansion, the ways Docker's parser
// does: at whitespace only, or at whitespace outside quotes (keeping the quotes, which the
// lexer removes later), or as a JSON array.

export interface RawWord {
  text: string;
  /** Index of the word's first character in the text that was split. */
  offset: number;
}

/** Splits at whitespace outside quotes; quotes and escapes stay in the words. */
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
    current.text += ch;
    if (ch === escape && i + 1 < text.length) {
      current.text += text[++i];
    } else if (quote && ch === quote) {
      quote = undefined;
    } else if (!quote && (ch === '"' || ch === "'")) {
      quote = ch;
    }
  }
  if (current) words.push(current);
  return words;
}

/** Splits at whitespace only, as Docker does for EXPOSE and the non-JSON COPY form. */
export function splitWhitespace(text: string): RawWord[] {
  return [...text.matchAll(/\S+/g)].map((match) => ({ text: match[0], offset: match.index }));
}

/** The JSON-array form (`["a", "b"]`), or undefined when the text is not one. */
export function parseJsonArray(text: string): string[] | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return undefined;
  return value as string[];
}
