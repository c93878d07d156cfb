import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../../util/atomic.js';
import { ensurePrivateDir } from '../../util/paths.js';
import { UserError } from '../../util/errors.js';
import { byCodeUnits } from '../../util/order.js';
import { errorAt, type Position } from '../dockerfile/errors.js';
import { resolveInRoot, ScopeError } from '../fs/scoped.js';
import { IgnoreMatcher, PatternError, cleanRelative, compilePattern, hasGlob } from './patterns.js';

/**
 * The build context: a directory, minus what .dockerignore excludes. COPY
 * and ADD name their sources relative to it (globs allowed) and can never
 * reach outside it; the build cache keys a COPY on the content of what it
 * copies (paths, types, permission bits, bytes, link targets — not
 * timestamps, as Docker does).
 */

export interface SourceEntry {
  /** Relative to the context root, as matched. */
  rel: string;
  /** Host path (after following the source path's own symlinks inside the context). */
  path: string;
  st: Stats;
}

export class BuildContext {
  readonly root: string;
  readonly ignore: IgnoreMatcher;
  /** File content hashes by path and stat, kept between builds of the same context (see saveHashes). */
  private hashes = new Map<string, string>();
  private hashesChanged = false;
  private readonly usedKeys = new Set<string>();

  private constructor(root: string, ignore: IgnoreMatcher) {
    this.root = root;
    this.ignore = ignore;
  }

  /**
   * Opens a context dir. The ignore file is `<Dockerfile>.dockerignore` next
   * to the Dockerfile when there is one (BuildKit's rule), else
   * `.dockerignore` at the context root.
   */
  static open(dir: string, dockerfilePath?: string): BuildContext {
    let root: string;
    try {
      root = realpathSync(dir);
    } catch {
      throw new UserError(`unable to prepare context: path "${dir}" not found`, 1, 'Give the build context directory (usually .)');
    }
    if (!statSync(root).isDirectory()) throw new UserError(`unable to prepare context: ${dir} is not a directory`);
    const candidates = [...(dockerfilePath ? [`${dockerfilePath}.dockerignore`] : []), join(root, '.dockerignore')];
    const file = candidates.find((f) => existsSync(f));
    let ignore = new IgnoreMatcher([]);
    if (file) {
      try {
        ignore = IgnoreMatcher.parse(readFileSync(file, 'utf8'), relative(root, file) || basename(file));
      } catch (err) {
        if (err instanceof PatternError) throw new UserError(err.message, 1, 'Fix the pattern in the ignore file');
        throw err;
      }
    }
    return new BuildContext(root, ignore);
  }

  /**
   * The entries a COPY/ADD source names: a literal path (its symlinks
   * followed inside the context) or a glob matched against every path of
   * the context. Errors name the instruction's line.
   */
  sources(source: string, pos: Position): SourceEntry[] {
    const cleaned = cleanRelative(source);
    if (posixEscapes(source)) throw errorAt(pos, `forbidden path outside the build context: ${source}`, 'COPY and ADD read only from the build context');
    if (hasGlob(source)) {
      let re: RegExp;
      try {
        re = compilePattern(cleaned);
      } catch (err) {
        throw errorAt(pos, `${(err as Error).message}`);
      }
      const out: SourceEntry[] = [];
      this.walkAll('', (rel, st, path) => {
        if (!re.test(rel)) return true;
        out.push({ rel, path, st });
        return false; // a matched directory is copied whole: no need to match below it
      });
      if (out.length === 0) throw errorAt(pos, `no source files were specified: nothing in the build context matches ${source}`, 'Check the pattern and .dockerignore');
      return out.sort((a, b) => byCodeUnits(a.rel, b.rel));
    }
    let resolved;
    try {
      resolved = resolveInRoot(this.root, cleaned);
    } catch (err) {
      if (err instanceof ScopeError) throw errorAt(pos, `${source}: ${err.message}`);
      throw err;
    }
    if (!resolved.st) throw errorAt(pos, `"${source}" not found in the build context: stat ${cleaned || '.'}: file does not exist`, 'COPY and ADD paths are relative to the build context');
    if (this.ignore.ignores(resolved.rel)) {
      throw errorAt(pos, `"${source}" is excluded by .dockerignore`, 'Remove it from .dockerignore, or copy something else');
    }
    return [{ rel: cleaned, path: resolved.path, st: resolved.st }];
  }

  /**
   * Visits the context below `rel` (depth first, sorted, ignored paths
   * skipped); `visit` returns false to not descend into a directory.
   */
  walkAll(rel: string, visit: (rel: string, st: Stats, path: string) => boolean): void {
    const dir = join(this.root, rel);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      const path = join(dir, name);
      const st = lstatSync(path);
      if (this.ignore.ignores(childRel)) {
        // An excluded directory may still hold something a later `!` line re-includes.
        if (st.isDirectory() && !this.ignore.canSkipDir(childRel)) this.walkAll(childRel, visit);
        continue;
      }
      if (visit(childRel, st, path) && st.isDirectory()) this.walkAll(childRel, visit);
    }
  }

  /** Visits what copying `entry` copies: itself, and everything below it when it is a directory. */
  walkEntry(entry: SourceEntry, visit: (rel: string, st: Stats, path: string) => void): void {
    visit('', entry.st, entry.path);
    if (!entry.st.isDirectory()) return;
    const base = relative(this.root, entry.path);
    this.walkAll(base, (rel, st, path) => {
      visit(rel.slice(base.length + (base ? 1 : 0)), st, path);
      return true;
    });
  }

  /** A content hash of what the entries copy, for the build cache. */
  async hash(entries: SourceEntry[]): Promise<string> {
    const h = createHash('sha256');
    for (const e of entries) {
      const items: [string, Stats, string][] = [];
      this.walkEntry(e, (rel, st, path) => items.push([rel, st, path]));
      h.update(`entry ${e.rel}\0`);
      for (const [rel, st, path] of items) {
        const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : 'o';
        h.update(`${type} ${rel} ${(st.mode & 0o7777).toString(8)}`);
        if (st.isSymbolicLink()) h.update(` -> ${readlinkSync(path)}`);
        if (st.isFile()) h.update(` ${st.size} ${await this.fileHash(path, st)}`);
        h.update('\0');
      }
    }
    return h.digest('hex');
  }

  private async fileHash(path: string, st: Stats): Promise<string> {
    // ctime too: a rewrite that restores the mtime still changes it.
    const key = `${path}\0${st.ino}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}`;
    this.usedKeys.add(key);
    const known = this.hashes.get(key);
    if (known) return known;
    const h = createHash('sha256');
    for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
    const hex = h.digest('hex');
    this.hashes.set(key, hex);
    this.hashesChanged = true;
    return hex;
  }

  /**
   * Loads the hashes an earlier build of this context saved in `file`, so
   * that an unchanged COPY source is not read again (BuildKit keeps such a
   * cache too). Entries are keyed by path and stat: any change misses.
   */
  loadHashes(file: string): void {
    const saved = readJsonIfExists<Record<string, string>>(file);
    if (saved) this.hashes = new Map(Object.entries(saved));
  }

  /** Saves the hashes this build used (only those: deleted files drop out). */
  saveHashes(file: string, used: Set<string> = this.usedKeys): void {
    if (!this.hashesChanged && used.size === this.hashes.size) return;
    const out: Record<string, string> = {};
    for (const k of used) {
      const v = this.hashes.get(k);
      if (v) out[k] = v;
    }
    ensurePrivateDir(dirname(file));
    writeJsonAtomic(file, out);
  }
}

/** True when the cleaned path climbs out of its root (`../x`); posix.normalize of "/../x" hides that. */
function posixEscapes(p: string): boolean {
  const parts: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (!parts.length) return true;
      parts.pop();
    } else {
      parts.push(c);
    }
  }
  return false;
}

export { ScopeError };
