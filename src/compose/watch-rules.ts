import { statSync } from 'node:fs';
import { basename, dirname, isAbsolute, posix, relative, resolve, sep } from 'node:path';
import { BuildContext } from '../build/context/context.js';
import { IgnoreMatcher, PatternError } from '../build/context/patterns.js';
import type { Project, WatchTrigger } from '../project/types.js';
import { UserError } from '../util/errors.js';

/**
 * Compose's develop.watch rules, compiled: which service and rule a changed
 * host file belongs to, and where it goes in the container. As Compose does,
 * a file is left out when the build context's .dockerignore excludes it
 * (relative to the context), when the rule's `ignore` patterns match it, or
 * when the rule has `include` patterns and none matches (both relative to the
 * rule's `path`); editors' temporary files and `.git` are always left out.
 * Every rule of a service whose path holds the file applies, as in Compose.
 */
export interface WatchRule {
  service: string;
  trigger: WatchTrigger;
  /** The rule's path is a directory (else a single file). */
  directory: boolean;
  ignored: (file: string) => boolean;
}

export interface RuleMatch {
  rule: WatchRule;
  /** Where the file goes in the container (rules with a target). */
  containerPath?: string;
}

/**
 * Files editors write beside the one being edited (vim's swap files and its
 * `4913` probe, emacs' lock and autosave files, JetBrains' safe-write copies,
 * GNOME's output streams, backup files): Compose ignores these too.
 */
const EPHEMERAL = IgnoreMatcher.parse(['**/.*.swp', '**/.*.swx', '**/4913', '**/*~', '**/.#*', '**/#*#', '**/*___jb_old___', '**/*___jb_tmp___', '**/.goutputstream-*', '**/.DS_Store', '**/.git'].join('\n'));

function matcher(patterns: string[] | undefined, service: string, what: string): IgnoreMatcher | undefined {
  if (!patterns?.length) return undefined;
  try {
    return new IgnoreMatcher(patterns, `services.${service}.develop.watch ${what}`);
  } catch (err) {
    if (err instanceof PatternError) throw new UserError(err.message, 1, 'fix the pattern');
    throw err;
  }
}

/** The project's watch rules of `services` (all when empty), in file order; a rule whose path is missing is an error. */
export function compileRules(project: Project, services: string[]): WatchRule[] {
  const names = services.length ? services : Object.keys(project.services);
  const rules: WatchRule[] = [];
  for (const service of names) {
    const s = project.services[service];
    if (!s) throw new UserError(`no such service: ${service}`);
    if (!s.develop?.watch.length) continue;
    let context: { root: string; ignore: IgnoreMatcher } | undefined;
    // A local build context's .dockerignore (a remote context has none here to read).
    if (s.build && statSync(s.build.context, { throwIfNoEntry: false })?.isDirectory()) {
      const dockerfile = s.build.dockerfile_inline === undefined ? resolve(s.build.context, s.build.dockerfile ?? 'Dockerfile') : undefined;
      const ctx = BuildContext.open(s.build.context, dockerfile);
      // The context as the loader resolved it (not its real path): changed files are named under it the same way.
      context = { root: s.build.context, ignore: ctx.ignore };
    }
    for (const trigger of s.develop.watch) {
      const st = statSync(trigger.path, { throwIfNoEntry: false });
      if (!st) throw new UserError(`services.${service}.develop.watch: path ${trigger.path} does not exist`, 1, 'create it, or fix the path of the rule');
      if (trigger.action === 'sync+exec' && !trigger.exec) throw new UserError(`services.${service}.develop.watch: a sync+exec rule needs \`exec\``, 1, 'add exec: { command: [...] } to the rule');
      const ignore = matcher(trigger.ignore, service, 'ignore');
      const include = matcher(trigger.include, service, 'include');
      const ignored = (file: string): boolean => {
        const rel = toSlash(relative(trigger.path, file));
        if (EPHEMERAL.ignores(rel || basename(file))) return true;
        if (context && !context.ignore.empty) {
          const inContext = toSlash(relative(context.root, file));
          if (inContext && !inContext.startsWith('../') && context.ignore.ignores(inContext)) return true;
        }
        if (!rel) return false;
        if (ignore?.ignores(rel)) return true;
        return include !== undefined && !include.ignores(rel);
      };
      rules.push({ service, trigger, directory: st.isDirectory(), ignored });
    }
  }
  return rules;
}

/** The rules of `service` that hold `file` and do not leave it out, in file order (Compose applies every one). */
export function matchRules(rules: WatchRule[], service: string, file: string): RuleMatch[] {
  const out: RuleMatch[] = [];
  for (const rule of rules) {
    if (rule.service !== service) continue;
    const rel = relative(rule.trigger.path, file);
    if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel) || rule.ignored(file)) continue;
    const target = rule.trigger.target;
    out.push({ rule, ...(target !== undefined ? { containerPath: rel ? posix.join(target, toSlash(rel)) : target } : {}) });
  }
  return out;
}

/** The directories to watch: each rule's path, or a file rule's directory (editors replace files by renaming). */
export function watchedRoots(rules: WatchRule[]): Array<{ dir: string; recursive: boolean }> {
  const roots = new Map<string, boolean>();
  for (const r of rules) {
    const dir = r.directory ? r.trigger.path : dirname(r.trigger.path);
    roots.set(dir, (roots.get(dir) ?? false) || r.directory);
  }
  return [...roots].map(([dir, recursive]) => ({ dir, recursive }));
}

function toSlash(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}
