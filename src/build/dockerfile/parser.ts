import { DockerfileError } from './errors.js';

/**
 * The Dockerfile's syntax, line by line (as moby/buildkit's parser reads it):
 * parser directives at the very top (`# syntax=`, `# escape=`, `# check=`),
 * comments, line continuations with the escape character (default `\`,
 * whitespace after it allowed), comment and empty lines inside a
 * continuation skipped, then per instruction its `--flags` and its
 * arguments, in JSON (exec) form where the instruction allows one.
 * Nothing is expanded here: variables are the builder's business.
 */

export interface Flag {
  name: string;
  /** undefined for a bare `--flag`. */
  value: string | undefined;
}

export interface Node {
  /** Upper case: RUN, COPY... */
  instruction: string;
  flags: Flag[];
  /** The arguments after the flags, continuations joined, as written. */
  args: string;
  /** The JSON array when the arguments are one (exec form). */
  json: string[] | undefined;
  /** 1-based first and last line. */
  line: number;
  endLine: number;
  /** The instruction as written (continuations joined), for messages and history. */
  original: string;
}

export interface Dockerfile {
  file: string;
  escape: '\\' | '`';
  directives: Record<string, string>;
  nodes: Node[];
  /** Lines where a continuation ran into an empty line (Docker warns; we do too). */
  warnings: string[];
}

const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const DIRECTIVE_RE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/;

export function parseDockerfile(text: string, file = 'Dockerfile'): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => l.replace(/\r$/, ''));
  const directives: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length; i++) {
    const m = DIRECTIVE_RE.exec(lines[i]!.trim());
    if (!m || !KNOWN_DIRECTIVES.has(m[1]!.toLowerCase())) break;
    const name = m[1]!.toLowerCase();
    if (directives[name] !== undefined) throw new DockerfileError(file, i + 1, `only one ${name} parser directive can be used`);
    directives[name] = m[2]!;
  }
  const escapeText = directives.escape ?? '\\';
  if (escapeText !== '\\' && escapeText !== '`') {
    throw new DockerfileError(file, lines.findIndex((l) => /^#\s*escape\s*=/i.test(l.trim())) + 1, `invalid escape token '${escapeText}' does not match ` + '` or \\', 'Use # escape=\\ or # escape=`');
  }
  const escape = escapeText as '\\' | '`';
  const continuation = new RegExp(`${escape === '\\' ? '\\\\' : '`'}[ \\t]*$`);
  const isComment = (l: string) => l.trimStart().startsWith('#');
  const nodes: Node[] = [];
  const warnings: string[] = [];

  while (i < lines.length) {
    const first = lines[i]!;
    if (first.trim() === '' || isComment(first)) {
      i++;
      continue;
    }
    const start = i;
    let text = '';
    let line = first.trimStart();
    let emptyInside = false;
    for (;;) {
      if (continuation.test(line)) {
        text += line.replace(continuation, '');
        i++;
        // Comments and empty lines inside a continuation are dropped, as Docker does.
        while (i < lines.length && (isComment(lines[i]!) || lines[i]!.trim() === '')) {
          if (lines[i]!.trim() === '') emptyInside = true;
          i++;
        }
        if (i >= lines.length) break;
        line = lines[i]!;
        continue;
      }
      text += line;
      i++;
      break;
    }
    if (emptyInside) warnings.push(`${file}:${start + 1}: empty continuation line (an instruction continues past an empty line; this will become an error)`);
    const node = parseInstruction(text, file, start + 1, Math.max(start + 1, i));
    if (node) nodes.push(node);
  }
  return { file, escape, directives, nodes, warnings };
}

function parseInstruction(text: string, file: string, line: number, endLine: number): Node | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(trimmed)!;
  const word = m[1]!;
  if (!/^[A-Za-z]+$/.test(word)) throw new DockerfileError(file, line, `unknown instruction: ${word}`, 'Instructions are FROM, RUN, COPY, ADD, ENV, ARG, WORKDIR, USER, EXPOSE, CMD, ENTRYPOINT, LABEL, VOLUME, HEALTHCHECK, SHELL, STOPSIGNAL, ONBUILD');
  const instruction = word.toUpperCase();
  const { flags, rest } = extractFlags(m[2] ?? '', file, line);
  return { instruction, flags, args: rest.trim(), json: parseJsonArray(rest), line, endLine, original: trimmed };
}

/**
 * Leading `--name[=value]` words; a value may be quoted. Flags end at the
 * first word that does not start with `--`, or at a bare `--`.
 */
function extractFlags(text: string, file: string, line: number): { flags: Flag[]; rest: string } {
  const flags: Flag[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (!text.startsWith('--', i)) break;
    let word = '';
    let quote: string | null = null;
    let j = i;
    for (; j < text.length; j++) {
      const c = text[j]!;
      if (quote) {
        if (c === quote) quote = null;
        else word += c;
      } else if (c === '"' || c === "'") {
        quote = c;
      } else if (/\s/.test(c)) {
        break;
      } else {
        word += c;
      }
    }
    if (quote) throw new DockerfileError(file, line, `unterminated quote in flag ${text.slice(i, j)}`);
    i = j;
    if (word === '--') break;
    const eq = word.indexOf('=');
    const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new DockerfileError(file, line, `invalid flag ${word}`);
    flags.push({ name, value: eq < 0 ? undefined : word.slice(eq + 1) });
  }
  return { flags, rest: text.slice(i) };
}

/** A JSON array of strings, or undefined (the shell form). */
export function parseJsonArray(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch { /* not JSON: the shell form, as Docker falls back */ }
  return undefined;
}

/**
 * Splits on unquoted whitespace, keeping quotes and escapes in the words
 * (they are removed when the word is expanded). For ENV/LABEL name=value
 * lists and whitespace-separated arguments.
 */
export function splitRawWords(text: string, escape: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === escape && quote !== "'" && i + 1 < text.length) {
      cur += c + text[++i]!;
      inWord = true;
      continue;
    }
    if (quote) {
      if (c === quote) quote = null;
      cur += c;
      continue;
    }
    if (c === '$' && text[i + 1] === '{') {
      // ${VAR:-a default with spaces} is one word, as in a shell.
      let depth = 0;
      let j = i;
      for (; j < text.length; j++) {
        if (text[j] === escape) { j++; continue; }
        if (text[j] === '{') depth++;
        else if (text[j] === '}' && --depth === 0) break;
      }
      if (j < text.length) {
        cur += text.slice(i, j + 1);
        inWord = true;
        i = j;
        continue;
      }
    }
    if (c === '"' || c === "'") {
      quote = c;
      cur += c;
      inWord = true;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += c;
    inWord = true;
  }
  if (quote) throw new Error(`unmatched ${quote === '"' ? 'double' : 'single'} quote`);
  if (inWord) out.push(cur);
  return out;
}
