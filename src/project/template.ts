/**
 * The `${VAR}` grammar Compose shares with POSIX shells, as a small
 * recursive-descent parser:
 *
 *   $$            a literal $
 *   $VAR ${VAR}   the value, or "" (with a warning) when unset
 *   ${VAR:-d}     d when VAR is unset or empty      ${VAR-d}  d when unset
 *   ${VAR:?msg}   error when unset or empty         ${VAR?msg} error when unset
 *   ${VAR:+r}     r when VAR is set and not empty   ${VAR+r}  r when set
 *
 * Defaults, replacements and messages are templates themselves, so defaults
 * nest (`${A:-${B:-c}}`). A `$` followed by anything else stays literal, as
 * in Compose; `${` that does not form a valid expression is an error.
 */

export type Lookup = (name: string) => string | undefined;

export class TemplateError extends Error {
  constructor(
    message: string,
    /** Offset of the offending `$` in the template. */
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface SubstituteOptions {
  lookup: Lookup;
  /** Called for each plain reference to an unset variable (no default). */
  onUnset?: (name: string, offset: number) => void;
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const OPERATORS = [':-', ':?', ':+', '-', '?', '+'] as const;
type Operator = (typeof OPERATORS)[number];

export function hasTemplate(s: string): boolean {
  return s.includes('$');
}

export function substitute(template: string, opts: SubstituteOptions): string {
  if (!template.includes('$')) return template;
  return expand(template, 0, opts);
}

/** Expands `text`, which sits at `base` in the outermost template (for error offsets). */
function expand(text: string, base: number, opts: SubstituteOptions): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (next !== undefined && NAME_START.test(next)) {
      let end = dollar + 2;
      while (end < text.length && NAME_CHAR.test(text[end]!)) end++;
      out += reference(text.slice(dollar + 1, end), base + dollar, opts);
      i = end;
    } else if (next === '{') {
      const close = matchingBrace(text, dollar + 1);
      if (close < 0) throw invalid(text.slice(dollar), base + dollar, 'it has no closing }');
      out += braced(text.slice(dollar + 2, close), base + dollar, base + dollar + 2, opts);
      i = close + 1;
    } else {
      out += '$';
      i = dollar + 1;
    }
  }
  return out;
}

/** Index of the } closing the { at `open`, counting nested braces. */
function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

function braced(body: string, dollarAt: number, bodyAt: number, opts: SubstituteOptions): string {
  let n = 0;
  if (body.length === 0 || !NAME_START.test(body[0]!)) {
    throw invalid('${' + body + '}', dollarAt, 'a variable name starts with a letter or _');
  }
  while (n < body.length && NAME_CHAR.test(body[n]!)) n++;
  const name = body.slice(0, n);
  if (n === body.length) return reference(name, dollarAt, opts);
  const op = OPERATORS.find((o) => body.startsWith(o, n)) as Operator | undefined;
  if (!op) {
    throw invalid('${' + body + '}', dollarAt, `"${body.slice(n, n + 2)}" is not one of :- - :? ? :+ +`);
  }
  const wordAt = bodyAt + n + op.length;
  const word = body.slice(n + op.length);
  const value = opts.lookup(name);
  const set = value !== undefined;
  const nonEmpty = set && value !== '';
  switch (op) {
    case ':-':
      return nonEmpty ? value : expand(word, wordAt, opts);
    case '-':
      return set ? value : expand(word, wordAt, opts);
    case ':+':
      return nonEmpty ? expand(word, wordAt, opts) : '';
    case '+':
      return set ? expand(word, wordAt, opts) : '';
    case ':?':
    case '?': {
      if (op === ':?' ? nonEmpty : set) return value!;
      const reason = expand(word, wordAt, opts);
      const what = op === ':?' && set ? 'is empty' : 'is not set';
      throw new TemplateError(`required variable ${name} ${what}${reason ? `: ${reason}` : ''}`, dollarAt);
    }
  }
}

function reference(name: string, at: number, opts: SubstituteOptions): string {
  const value = opts.lookup(name);
  if (value === undefined) {
    opts.onUnset?.(name, at);
    return '';
  }
  return value;
}

function invalid(expr: string, at: number, why: string): TemplateError {
  return new TemplateError(`invalid interpolation ${JSON.stringify(expr)}: ${why} (write $$ for a literal $)`, at);
}

/** A variable a template refers to, and what the template says of it (`config --variables`). */
export interface TemplateVariable {
  name: string;
  /** `${VAR:?msg}` / `${VAR?msg}`. */
  required: boolean;
  /** `${VAR:-d}` / `${VAR-d}`: d, as written. */
  defaultValue?: string;
  /** `${VAR:+r}` / `${VAR+r}`: r, as written. */
  alternateValue?: string;
}

/** The variables `template` refers to, nested defaults included, in order; an invalid template yields what precedes the fault. */
export function templateVariables(template: string): TemplateVariable[] {
  const out: TemplateVariable[] = [];
  const scan = (text: string) => {
    let i = 0;
    for (;;) {
      const dollar = text.indexOf('$', i);
      if (dollar < 0 || dollar + 1 >= text.length) return;
      const next = text[dollar + 1]!;
      if (next === '$') {
        i = dollar + 2;
      } else if (NAME_START.test(next)) {
        let end = dollar + 2;
        while (end < text.length && NAME_CHAR.test(text[end]!)) end++;
        out.push({ name: text.slice(dollar + 1, end), required: false });
        i = end;
      } else if (next === '{') {
        const close = matchingBrace(text, dollar + 1);
        if (close < 0) return;
        const body = text.slice(dollar + 2, close);
        let n = 0;
        while (n < body.length && NAME_CHAR.test(body[n]!)) n++;
        if (n === 0 || !NAME_START.test(body[0]!)) return;
        const op = OPERATORS.find((o) => body.startsWith(o, n));
        const word = op ? body.slice(n + op.length) : '';
        const v: TemplateVariable = { name: body.slice(0, n), required: op === ':?' || op === '?' };
        if (op === ':-' || op === '-') v.defaultValue = word;
        if (op === ':+' || op === '+') v.alternateValue = word;
        out.push(v);
        if (op) scan(word);
        i = close + 1;
      } else {
        i = dollar + 1;
      }
    }
  };
  scan(template);
  return out;
}
