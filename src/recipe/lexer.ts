// The word lexer: quote removal and variable expansion with the rules of BuildKit's shell
// lexer (frontend/dockerfile/shell), which is what users' Dockerfiles are written against.
// It is deliberately not a POSIX shell: no command substitution, no field splitting on IFS,
// no `${#a}`, and an unset variable expands to the empty string without error.

/** A substitution the lexer cannot perform; callers attach the source location. */
export class WordError extends Error {}

export interface LexOptions {
  /** The recipe's escape character, `\` unless `# escape=` says otherwise. */
  escape: string;
  /** Quotes are plain characters (COPY heredoc content, as BuildKit expands it). */
  skipQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
}

export interface ExpandResult {
  /** The expanded word. */
  value: string;
  /** The same text split at unquoted whitespace (quoted and escaped spaces kept). */
  words: string[];
  /** Names used without a fallback and not set: likely typos, which plan reports. */
  undefinedNames: Set<string>;
}

type Env = ReadonlyMap<string, string>;

const DEFAULT_OPTIONS: LexOptions = { escape: '\\' };

/** Expands one word: `${a:-x}` etc., quotes removed. */
export function expandWord(word: string, env: Env, options: LexOptions = DEFAULT_OPTIONS): string {
  return lex(word, env, options).value;
}

/** Expands and splits into words after expansion, as ProcessWords does. */
export function expandWords(word: string, env: Env, options: LexOptions = DEFAULT_OPTIONS): string[] {
  return lex(word, env, options).words;
}

export function lex(word: string, env: Env, options: LexOptions = DEFAULT_OPTIONS): ExpandResult {
  const lexer = new WordLexer(word, env, options);
  const { value, words } = lexer.processUntil(undefined, options.rawEscapes ?? false);
  return { value, words, undefinedNames: lexer.undefinedNames };
}

/** Collects the words of a ProcessWords split: expanded text splits at whitespace, quoted text doesn't. */
class WordCollector {
  readonly words: string[] = [];
  private word = '';
  private inWord = false;

  addSplittable(text: string): void {
    for (const ch of text) {
      if (/\s/u.test(ch)) {
        if (this.inWord && this.word.length > 0) {
          this.words.push(this.word);
          this.word = '';
          this.inWord = false;
        }
      } else {
        this.addRaw(ch);
      }
    }
  }

  addRaw(text: string): void {
    this.word += text;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.word.length > 0) this.words.push(this.word);
    this.word = '';
    this.inWord = false;
    return this.words;
  }
}

class WordLexer {
  private readonly chars: string[];
  private pos = 0;
  readonly undefinedNames = new Set<string>();
  private readonly env: Env;
  private readonly options: LexOptions;

  constructor(source: string, env: Env, options: LexOptions) {
    this.chars = Array.from(source);
    this.env = env;
    this.options = options;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    return this.chars[this.pos++];
  }

  /** Reads up to `stop` (consumed) or the end; a missing `stop` is an error. */
  processUntil(stop: string | undefined, rawEscapes: boolean): { value: string; words: string[] } {
    let value = '';
    const words = new WordCollector();
    while (this.peek() !== undefined) {
      const ch = this.peek()!;
      if (stop !== undefined && ch === stop) {
        this.next();
        return { value, words: words.finish() };
      }
      if (ch === '$') {
        const expanded = this.processDollar();
        value += expanded;
        words.addSplittable(expanded);
      } else if (ch === "'" && !this.options.skipQuotes) {
        const quoted = this.processSingleQuote();
        value += quoted;
        words.addRaw(quoted);
      } else if (ch === '"' && !this.options.skipQuotes) {
        const quoted = this.processDoubleQuote(rawEscapes);
        value += quoted;
        words.addRaw(quoted);
      } else {
        this.next();
        if (ch === this.options.escape) {
          if (rawEscapes) {
            words.addRaw(ch);
            value += ch;
          }
          const escaped = this.next();
          if (escaped === undefined) break;
          words.addRaw(escaped);
          value += escaped;
        } else {
          words.addSplittable(ch);
          value += ch;
        }
      }
    }
    if (stop !== undefined) throw new WordError(`unexpected end of statement while looking for matching ${stop}`);
    return { value, words: words.finish() };
  }

  private processSingleQuote(): string {
    this.next();
    let out = '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new WordError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return out;
      out += ch;
    }
  }

  private processDoubleQuote(rawEscapes: boolean): string {
    this.next();
    let out = '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw new WordError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.next();
        return out;
      }
      if (ch === '$') {
        out += this.processDollar();
        continue;
      }
      this.next();
      if (ch === this.options.escape) {
        if (rawEscapes) out += ch;
        const following = this.peek();
        if (following === undefined) continue;
        // Inside double quotes only these can be escaped; any other escape stays literal.
        if (following === '"' || following === '$' || following === this.options.escape) {
          out += this.next();
          continue;
        }
      }
      out += ch;
    }
  }

  /**
   * The value of `name`. `required`: the word has no fallback for it (`$a`, `${a}`, `${a#p}` …,
   * not `${a:-x}` and kin), so an unset name is reported in `undefinedNames`.
   */
  private lookup(name: string, required: boolean): string | undefined {
    const value = this.env.get(name);
    if (value === undefined && required && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.undefinedNames.add(name);
    return value;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      return this.lookup(name, true) ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw new WordError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new WordError('syntax error: bad substitution');
    const name = this.processName();
    let op = this.next();
    // BuildKit reports a modifier named U+FFFD here; saying what is missing helps more.
    if (op === undefined) throw new WordError("syntax error: missing '}'");
    if (op === '}') return this.lookup(name, true) ?? '';
    if (op === '/') return this.processReplace(name);
    let modifier = op ?? '';
    const nullIsUnset = op === ':';
    if (nullIsUnset) {
      op = this.next();
      modifier += op ?? '';
    }
    if (op !== '+' && op !== '-' && op !== '?' && op !== '#' && op !== '%') {
      if (nullIsUnset) this.readOperand(false);
      throw new WordError(`unsupported modifier (${modifier}) in substitution`);
    }
    const word = this.readOperand(op === '#' || op === '%');
    const value = this.lookup(name, op === '#' || op === '%');
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (op) {
      case '-':
        return unset ? word : value!;
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) throw new WordError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (unset) throw new WordError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      default: {
        const greedy = word.startsWith(op);
        const pattern = greedy ? word.slice(1) : word;
        return op === '#' ? trimPrefix(pattern, value ?? '', greedy) : trimSuffix(pattern, value ?? '', greedy);
      }
    }
  }

  private readOperand(rawEscapes: boolean): string {
    try {
      return this.processUntil('}', rawEscapes).value;
    } catch (error) {
      if (this.peek() === undefined) throw new WordError("syntax error: missing '}'");
      throw error;
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    let pattern: string;
    try {
      pattern = this.processUntil('/', true).value;
    } catch (error) {
      if (this.peek() === undefined) throw new WordError("syntax error: missing '/' in ${}");
      throw error;
    }
    const replacement = this.readOperand(true);
    const value = this.lookup(name, true) ?? '';
    const re = patternToRegExp(pattern, true, false, all);
    if (all) return value.replace(re, () => replacement);
    const match = re.exec(value);
    if (!match) return value;
    return value.slice(0, match.index) + replacement + value.slice(match.index + match[0].length);
  }

  /** A name: letters, digits, `_`; or all-digit positional; or one special parameter. */
  private processName(): string {
    let name = '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) break;
      if (name === '' && /\p{Nd}/u.test(ch)) {
        while (this.peek() !== undefined && /\p{Nd}/u.test(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(ch)) return this.next()!;
      if (!/[\p{L}\p{Nd}_]/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }
}

/**
 * A shell pattern (`*`, `?`, `\` escapes; no brackets, as BuildKit) as a RegExp. `greedy`
 * picks the longest `*` match; `anchored` matches at the start only.
 */
function patternToRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') {
      out += greedy ? '[\\s\\S]*' : '[\\s\\S]*?';
    } else if (ch === '?') {
      out += '[\\s\\S]';
    } else if (ch === '\\') {
      const following = chars[i + 1];
      // `}` and `/` are escaped only to get them past the ${} parser.
      if (following === '}' || following === '/') continue;
      if (following !== '*' && following !== '?' && following !== '\\') {
        throw new WordError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${following ?? ''}'`);
      }
      out += '\\' + following;
      i++;
    } else {
      out += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const match = patternToRegExp(pattern, greedy, true).exec(value);
  return match ? value.slice(match[0].length) : value;
}

/** Reverses a pattern keeping `\x` escapes in front of the character they escape. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\' && i !== chars.length - 1) {
      out.unshift('\\' + chars[i + 1]);
      i++;
    } else {
      out.unshift(chars[i]!);
    }
  }
  return out.join('');
}

function reverseString(text: string): string {
  return Array.from(text).reverse().join('');
}

// A regexp finds the leftmost match only, so the shortest *suffix* is found as the shortest
// prefix of the reversed value.
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}
