import { substitute, TemplateError, type Lookup } from './template.js';

/**
 * `.env` and `env_file` files, as Compose reads them:
 *
 *   # comment               KEY=value # inline comment (unquoted values only)
 *   export KEY=value        KEY: value (YAML style)     KEY (inherit it from the environment)
 *   KEY='literal $x'        KEY="escapes \n and ${VARS}, may span lines"
 *
 * Unquoted and double-quoted values are interpolated, looking a variable up
 * first in `lookup` (the process environment) and then in the entries read
 * earlier in the same file, so values can refer to earlier ones.
 * `format: raw` takes every value literally.
 */

export class DotEnvError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(message);
  }
}

export interface DotEnvOptions {
  lookup?: Lookup;
  format?: 'raw' | string;
}

export function parseDotEnv(text: string, opts: DotEnvOptions = {}): Record<string, string> {
  return new Parser(text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n'), opts).parse();
}

const KEY_CHAR = /[\p{L}\p{N}_.\-[\]]/u;

class Parser {
  private i = 0;
  private readonly out: Record<string, string> = {};

  constructor(
    private readonly s: string,
    private readonly opts: DotEnvOptions,
  ) {}

  parse(): Record<string, string> {
    for (;;) {
      this.skipBlankAndComments();
      if (this.i >= this.s.length) return this.out;
      this.statement();
    }
  }

  private statement(): void {
    const lineStart = this.i;
    const exported = /^export[ \t]+/.exec(this.s.slice(this.i, this.i + 40));
    if (exported) this.i += exported[0].length;
    const keyStart = this.i;
    while (this.i < this.s.length && KEY_CHAR.test(this.s[this.i]!)) this.i++;
    const key = this.s.slice(keyStart, this.i);
    const afterKey = this.i;
    this.skipSpaces();
    const c = this.s[this.i];
    if (key !== '' && afterKey < this.i && c !== undefined && KEY_CHAR.test(c)) {
      throw this.error(`a variable name cannot contain a space: ${JSON.stringify(this.s.slice(lineStart, this.lineEnd(lineStart)))}`, afterKey);
    }
    if (key === '') throw this.error(`unexpected character ${JSON.stringify(c ?? '')} where a variable name was expected`, keyStart);
    if (c === undefined || c === '\n') {
      // A bare KEY takes its value from the environment, when it has one there.
      const inherited = this.opts.lookup?.(key);
      if (inherited !== undefined) this.out[key] = inherited;
      return;
    }
    if (c !== '=' && c !== ':') {
      throw this.error(`unexpected character ${JSON.stringify(c)} in variable name ${JSON.stringify(this.s.slice(lineStart, this.lineEnd(lineStart)))}`, this.i);
    }
    this.i++;
    this.skipSpaces();
    this.out[key] = this.value();
  }

  private value(): string {
    const q = this.s[this.i];
    if (this.opts.format === 'raw') {
      const end = this.lineEnd(this.i);
      const v = this.s.slice(this.i, end).trimEnd();
      this.i = end;
      return v;
    }
    if (q === '"' || q === "'") return this.quoted(q);
    const end = this.lineEnd(this.i);
    let raw = this.s.slice(this.i, end);
    const at = this.i;
    this.i = end;
    const comment = raw.search(/[ \t]#/);
    if (comment >= 0) raw = raw.slice(0, comment);
    return this.interpolate(raw.trimEnd(), at);
  }

  private quoted(q: string): string {
    const open = this.i;
    let j = open + 1;
    let raw = '';
    while (j < this.s.length && this.s[j] !== q) {
      if (this.s[j] === '\\' && j + 1 < this.s.length) {
        const n = this.s[j + 1]!;
        if (n === q) {
          raw += q;
        } else if (q === '"') {
          raw += this.escape(n);
        } else {
          raw += '\\' + n;
        }
        j += 2;
        continue;
      }
      raw += this.s[j];
      j++;
    }
    if (j >= this.s.length) throw this.error(`unterminated quoted value ${this.s.slice(open, this.lineEnd(open))}`, open);
    this.i = j + 1;
    // Anything after the closing quote up to the end of the line must be blank or a comment.
    const rest = this.s.slice(this.i, this.lineEnd(this.i));
    if (rest.trim() !== '' && !rest.trim().startsWith('#')) {
      throw this.error(`unexpected ${JSON.stringify(rest.trim())} after the closing quote`, this.i);
    }
    this.i = this.lineEnd(this.i);
    return q === '"' ? this.interpolate(raw, open + 1) : raw;
  }

  private escape(c: string): string {
    switch (c) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case '\\':
        return '\\';
      case '$':
        return '$$'; // stays a literal $ through interpolation
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      default:
        return '\\' + c;
    }
  }

  private interpolate(raw: string, at: number): string {
    try {
      return substitute(raw, { lookup: (name) => this.opts.lookup?.(name) ?? this.out[name] });
    } catch (err) {
      if (err instanceof TemplateError) throw this.error(err.message, at + err.offset);
      throw err;
    }
  }

  private skipBlankAndComments(): void {
    for (;;) {
      while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
      if (this.s[this.i] !== '#') return;
      this.i = this.lineEnd(this.i);
    }
  }

  private skipSpaces(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
  }

  private lineEnd(from: number): number {
    const n = this.s.indexOf('\n', from);
    return n < 0 ? this.s.length : n;
  }

  private error(message: string, offset: number): DotEnvError {
    const before = this.s.slice(0, offset);
    const line = before.split('\n').length;
    const col = offset - before.lastIndexOf('\n');
    return new DotEnvError(message, line, col);
  }
}
