// Go's fmt verbs as BuildKit uses them in history text: `%v` and `%q` of a []string.

/** `%q` of a string: Go's double-quoted literal. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/** `%v` (`[a b]`) or, with `quoted`, `%q` (`["a" "b"]`) of a []string. */
export function goSlice(items: readonly string[], quoted = false): string {
  return `[${items.map((item) => (quoted ? goQuote(item) : item)).join(' ')}]`;
}
