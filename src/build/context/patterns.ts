import { posix } from 'node:path';

/**
 * Path patterns as Docker reads them in .dockerignore and COPY sources
 * (moby/patternmatcher): Go's filepath.Match syntax (`*` and `?` within one
 * path component, `[a-z]` classes, `\` escapes) plus `**` for any number of
 * components; paths are cleaned and relative to the context root, a
 * leading `/` is dropped. In .dockerignore a `!` line re-includes what an
 * earlier line excluded, the last matching line wins, and a pattern that
 * matches a directory matches everything below it.
 */

export class PatternError extends Error {}

/** filepath.Clean for slash paths, relative: "./a//b/../c/" → "a/c"; "/" and "." → "". */
export function cleanRelative(p: string): string {
  const c = posix.normalize(`/${p}`).replace(/^\/+/, '').replace(/\/+$/, '');
  return c === '.' ? '' : c;
}

export function compilePattern(pattern: string): RegExp {
  const p = cleanRelative(pattern);
  let re = '^';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') {
      if (p[i + 1] === '*') {
        i++;
        // `**/` matches zero or more whole components; a trailing `**` anything at all.
        if (p[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end < 0) throw new PatternError(`syntax error in pattern ${JSON.stringify(pattern)}: unterminated [`);
      let cls = p.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\').replace(/\]/g, '\\]')}]`;
      i = end;
    } else if (c === '\\') {
      if (i + 1 >= p.length) throw new PatternError(`syntax error in pattern ${JSON.stringify(pattern)}: trailing \\`);
      re += escapeRe(p[++i]!);
    } else {
      re += escapeRe(c);
    }
  }
  return new RegExp(`${re}$`, 's');
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** True when the string has glob characters (a COPY source to expand rather than take literally). */
export function hasGlob(p: string): boolean {
  return /[*?[]/.test(p.replace(/\\./g, ''));
}

interface IgnoreRule {
  re: RegExp;
  exclusion: boolean;
  /** The cleaned pattern, for deciding whether a directory must be walked. */
  text: string;
}

/** .dockerignore rules. */
export class IgnoreMatcher {
  private readonly rules: IgnoreRule[];

  constructor(lines: string[], where = '.dockerignore') {
    this.rules = [];
    for (const [n, raw] of lines.entries()) {
      let line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const exclusion = line.startsWith('!');
      if (exclusion) line = line.slice(1).trim();
      const text = cleanRelative(line);
      if (!text) continue;
      try {
        this.rules.push({ re: compilePattern(text), exclusion, text });
      } catch (err) {
        throw new PatternError(`${where}:${n + 1}: ${(err as Error).message}`);
      }
    }
  }

  static parse(content: string, where?: string): IgnoreMatcher {
    return new IgnoreMatcher(content.split(/\r?\n/), where);
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** True when `rel` (cleaned, relative to the context) is excluded: the last rule matching it or a parent wins. */
  ignores(rel: string): boolean {
    if (!rel) return false;
    const parents = ancestors(rel);
    let excluded = false;
    for (const r of this.rules) {
      if (r.re.test(rel) || parents.some((p) => r.re.test(p))) excluded = !r.exclusion;
    }
    return excluded;
  }

  /**
   * True when an ignored directory can be skipped whole: no `!` rule could
   * re-include anything below it.
   */
  canSkipDir(rel: string): boolean {
    return !this.rules.some((r) => r.exclusion && (r.text.startsWith(`${rel}/`) || r.text.includes('*') || r.text.includes('?') || r.text.includes('[')));
  }
}

/** "a/b/c" → ["a", "a/b"] */
function ancestors(rel: string): string[] {
  const parts = rel.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}
