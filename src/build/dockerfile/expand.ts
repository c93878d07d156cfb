/**
 * Variable substitution in Dockerfile words, as `docker build` does it (a
 * small shell: `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`,
 * `${VAR:+word}`, `${VAR+word}`, `${VAR:?message}`, `${VAR?message}`,
 * `${VAR#pattern}`, `${VAR##pattern}`, `${VAR%pattern}`,
 * `${VAR%%pattern}`), with single quotes literal, double quotes expanding,
 * and the escape character (`\` or the `# escape=` one) taking the next
 * character literally. The result is one string, or words split on
 * whitespace that came from neither quotes nor escapes.
 */

export type Env = ReadonlyMap<string, string>;

export class ExpandError extends Error {}

interface Words {
  words: string[];
  word: string;
  inWord: boolean;
}

function addChar(w: Words, c: string): void {
  if (/\s/.test(c)) {
    if (w.inWord && w.word.length) w.words.push(w.word);
    if (w.inWord) {
      w.word = '';
      w.inWord = false;
    }
    return;
  }
  w.word += c;
  w.inWord = true;
}

function addRaw(w: Words, s: string): void {
  w.word += s;
  w.inWord = true;
}

class Lexer {
  private pos = 0;

  constructor(private readonly text: string, private readonly env: Env, private readonly escape: string) {}

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private next(): string | undefined {
    return this.text[this.pos++];
  }

  run(): { result: string; words: string[] } {
    return this.until(undefined, false);
  }

  /** Reads up to `stop` (consumed) or the end; `rawEscapes` keeps escape chars (for patterns). */
  private until(stop: string | undefined, rawEscapes: boolean): { result: string; words: string[] } {
    let result = '';
    const w: Words = { words: [], word: '', inWord: false };
    while (this.pos < this.text.length) {
      const c = this.peek()!;
      if (stop !== undefined && c === stop) {
        this.pos++;
        return { result, words: finish(w) };
      }
      if (c === '$') {
        const v = this.dollar();
        result += v;
        for (const ch of v) addChar(w, ch);
      } else if (c === "'") {
        const v = this.singleQuoted();
        result += v;
        addRaw(w, v);
      } else if (c === '"') {
        const v = this.doubleQuoted();
        result += v;
        addRaw(w, v);
      } else {
        this.pos++;
        if (c === this.escape) {
          if (rawEscapes) {
            result += c;
            addRaw(w, c);
          }
          const n = this.next();
          if (n === undefined) break;
          result += n;
          addRaw(w, n);
        } else {
          result += c;
          addChar(w, c);
        }
      }
    }
    if (stop !== undefined) throw new ExpandError(`unexpected end of statement while looking for matching ${stop}`);
    return { result, words: finish(w) };
  }

  private singleQuoted(): string {
    this.pos++;
    const end = this.text.indexOf("'", this.pos);
    if (end < 0) throw new ExpandError('unexpected end of statement while looking for matching single-quote');
    const v = this.text.slice(this.pos, end);
    this.pos = end + 1;
    return v;
  }

  private doubleQuoted(): string {
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new ExpandError('unexpected end of statement while looking for matching double-quote');
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '$') {
        out += this.dollar();
        continue;
      }
      this.pos++;
      if (c === this.escape) {
        const n = this.peek();
        if (n === undefined) continue;
        // Inside double quotes only ", $ and the escape char itself are escaped; other escapes stay as written.
        if (n === '"' || n === '$' || n === this.escape) {
          out += n;
          this.pos++;
          continue;
        }
      }
      out += c;
    }
  }

  private name(): string {
    const c = this.peek();
    if (c !== undefined && /[0-9]/.test(c)) {
      let n = '';
      while (this.peek() !== undefined && /[0-9]/.test(this.peek()!)) n += this.next();
      return n;
    }
    if (c !== undefined && '@*#?-$!0'.includes(c)) return this.next()!;
    let n = '';
    while (this.peek() !== undefined && /[\p{L}\p{N}_]/u.test(this.peek()!)) n += this.next();
    return n;
  }

  private lookup(name: string): string | undefined {
    return this.env.get(name);
  }

  private dollar(): string {
    this.pos++;
    if (this.peek() !== '{') {
      const name = this.name();
      if (!name) return '$';
      return this.lookup(name) ?? '';
    }
    this.pos++;
    const first = this.peek();
    if (first === undefined) throw new ExpandError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ExpandError('syntax error: bad substitution');
    const name = this.name();
    let op = this.next();
    if (op === undefined) throw new ExpandError("syntax error: missing '}'");
    if (op === '}') return this.lookup(name) ?? '';
    let nullIsUnset = false;
    if (op === ':') {
      nullIsUnset = true;
      op = this.next();
      if (op === undefined) throw new ExpandError("syntax error: missing '}'");
    }
    if (!'+-?#%'.includes(op) || (nullIsUnset && (op === '#' || op === '%'))) {
      throw new ExpandError(`unsupported modifier (${nullIsUnset ? ':' : ''}${op}) in substitution`);
    }
    let word: string;
    try {
      word = this.until('}', op === '#' || op === '%').result;
    } catch (err) {
      if (this.pos >= this.text.length) throw new ExpandError("syntax error: missing '}'");
      throw err;
    }
    const value = this.lookup(name);
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (op) {
      case '-':
        return unset ? word : value!;
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) throw new ExpandError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new ExpandError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      default: {
        const greedy = word.startsWith(op);
        const pattern = greedy ? word.slice(1) : word;
        return trimPattern(value ?? '', pattern, op === '#' ? 'prefix' : 'suffix', greedy);
      }
    }
  }
}

function finish(w: Words): string[] {
  if (w.word.length) w.words.push(w.word);
  return w.words;
}

/** Shell pattern (`*`, `?`, `\` escapes) to a regex source. */
function patternSource(pattern: string, greedy: boolean): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += greedy ? '.*' : '.*?';
    else if (c === '?') out += '.';
    else if (c === '\\' && i + 1 < pattern.length) out += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}

function trimPattern(value: string, pattern: string, side: 'prefix' | 'suffix', greedy: boolean): string {
  if (side === 'prefix') {
    const m = new RegExp(`^${patternSource(pattern, greedy)}`, 's').exec(value);
    return m ? value.slice(m[0].length) : value;
  }
  // The shortest suffix is the one that starts last: try each start from the end (or from the start, greedy).
  const re = new RegExp(`^${patternSource(pattern, true)}$`, 's');
  if (greedy) {
    for (let i = 0; i <= value.length; i++) if (re.test(value.slice(i))) return value.slice(0, i);
  } else {
    for (let i = value.length; i >= 0; i--) if (re.test(value.slice(i))) return value.slice(0, i);
  }
  return value;
}

/** One word, quotes removed, variables replaced. */
export function expandWord(text: string, env: Env, escape = '\\'): string {
  return new Lexer(text, env, escape).run().result;
}

/** Words split on whitespace after expansion (quoted whitespace kept), quotes removed. */
export function expandWords(text: string, env: Env, escape = '\\'): string[] {
  return new Lexer(text, env, escape).run().words;
}
