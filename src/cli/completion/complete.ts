import type { Command, Option } from 'commander';

/**
 * Shell completion, decided here and not in the shells: the scripts of
 * `tscompose completion bash|zsh|fish` pass the words of the command line
 * to `tscompose __complete`, which walks the program's own command tree
 * (every verb, subcommand, flag and argument as commander knows them, so
 * completion never drifts from --help) and answers with the candidates for
 * the last word, or asks the shell for file names. Service names come from
 * the compose file the command line names (its -f, -p, --project-directory,
 * --env-file, --profile), container, image, network and volume names from
 * the engine (its --backend).
 */

/** What a position takes, read from an argument's or an option value's name. */
export type ValueKind = 'service' | 'container' | 'image' | 'network' | 'volume' | 'file' | 'none';

/** The global options of the command line so far: where the project and the engine are. */
export interface GlobalWords {
  files: string[];
  envFiles: string[];
  profiles: string[];
  projectName?: string;
  projectDirectory?: string;
  backend?: string;
}

export type Lookup = (kind: Exclude<ValueKind, 'file' | 'none'>, globals: GlobalWords) => Promise<string[]>;

export type Completion = { words: string[] } | { files: true };

/** The kind of values a name stands for (`<container...>`, `[SERVICE...]`, `--file <file>`). */
export function kindOf(name: string): ValueKind {
  const n = name.toLowerCase();
  if (n.includes('service')) return 'service';
  if (n.includes('container')) return 'container';
  if (n === 'image' || n === 'source' || n === 'reference' || n === 'repository') return 'image';
  if (n.includes('network')) return 'network';
  if (n.includes('volume')) return 'volume';
  if (/file|path|dir|src|dest|output|input/.test(n)) return 'file';
  return 'none';
}

/** The name of an option's value: `<file>` of `-f, --file <file>`. */
function valueName(o: Option): string {
  return /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? '';
}

const takesValue = (o: Option) => o.required || o.optional;

function findOption(cmd: Command, word: string): Option | undefined {
  return cmd.options.find((o) => o.long === word || o.short === word);
}

function findCommand(cmd: Command, word: string): Command | undefined {
  return cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
}

function recordGlobal(g: GlobalWords, o: Option, value: string): void {
  switch (o.long) {
    case '--file':
      g.files.push(value);
      break;
    case '--env-file':
      g.envFiles.push(value);
      break;
    case '--profile':
      g.profiles.push(value);
      break;
    case '--project-name':
      g.projectName = value;
      break;
    case '--project-directory':
      g.projectDirectory = value;
      break;
    case '--backend':
      g.backend = value;
      break;
  }
}

/**
 * The candidates for the last of `words` (the command line after the
 * program's name, the word being completed last, '' for a new one),
 * those that start with it; or `files`, for a file name.
 */
export async function complete(program: Command, words: readonly string[], lookup: Lookup): Promise<Completion> {
  const current = words[words.length - 1] ?? '';
  const globals: GlobalWords = { files: [], envFiles: [], profiles: [] };
  let cmd = program;
  let positional = 0;
  let pending: Option | undefined;
  let onlyArguments = false;

  for (const word of words.slice(0, -1)) {
    if (pending) {
      if (cmd === program) recordGlobal(globals, pending, word);
      pending = undefined;
    } else if (!onlyArguments && word === '--') {
      onlyArguments = true;
    } else if (!onlyArguments && word.startsWith('-') && word !== '-') {
      const eq = word.indexOf('=');
      const o = findOption(cmd, eq > 0 ? word.slice(0, eq) : word);
      if (o && eq > 0 && cmd === program) recordGlobal(globals, o, word.slice(eq + 1));
      else if (o && eq < 0 && takesValue(o)) pending = o;
    } else {
      const sub = positional === 0 && !onlyArguments ? findCommand(cmd, word) : undefined;
      if (sub) {
        cmd = sub;
      } else positional++;
    }
  }
  const matching = (xs: Iterable<string>) => ({ words: [...new Set(xs)].filter((x) => x.startsWith(current)).sort() });

  if (pending) {
    if (pending.argChoices) return matching(pending.argChoices);
    return values(kindOf(valueName(pending)), globals, lookup, matching);
  }
  const help = cmd.createHelp();
  if (current.startsWith('-') && !onlyArguments) {
    return matching(help.visibleOptions(cmd).flatMap((o) => [o.long, o.short]).filter((f): f is string => !!f));
  }
  const subs = help.visibleCommands(cmd).filter((c) => c.name() !== 'help');
  if (subs.length && positional === 0) return matching(subs.flatMap((c) => [c.name(), ...c.aliases()]));
  const args = cmd.registeredArguments;
  const last = args[args.length - 1];
  const arg = positional < args.length ? args[positional] : last?.variadic ? last : undefined;
  return arg ? values(kindOf(arg.name()), globals, lookup, matching) : { words: [] };
}

async function values(kind: ValueKind, globals: GlobalWords, lookup: Lookup, matching: (xs: Iterable<string>) => Completion): Promise<Completion> {
  if (kind === 'file') return { files: true };
  if (kind === 'none') return { words: [] };
  try {
    return matching(await lookup(kind, globals));
  } catch {
    // A file with a mistake, an engine that is not there: nothing to offer, and nothing printed on the user's prompt.
    return { words: [] };
  }
}
