import type { Command } from 'commander';

/**
 * Every command module, with the top-level commands (and aliases) it
 * registers, in the order `tscompose --help` lists them (Docker Compose's
 * order: project verbs first, then the engine's object commands).
 *
 * A CLI call loads only the module of the command it runs: a Node process
 * pays for every module it loads, and `tscompose up` must not load the image
 * store, the builder and the registry client to reconcile a project. `--help`
 * and unknown commands load them all. test/cli/commands.test.ts checks that
 * this table names exactly what each module registers.
 */
type Register = (program: Command) => void;

export interface CommandModule {
  commands: readonly string[];
  load: () => Promise<{ register: Register }>;
  /** Its commands read the whole command tree (shell completion), as help does: every module is registered for them. */
  needsAll?: boolean;
}

export const commandModules: readonly CommandModule[] = [
  { commands: ['up', 'create'], load: () => import('./compose-up.js') },
  { commands: ['down'], load: () => import('./compose-down.js') },
  { commands: ['ps'], load: () => import('./compose-ps.js') },
  { commands: ['logs'], load: () => import('./compose-logs.js') },
  { commands: ['start', 'stop', 'restart', 'kill', 'rm', 'pause', 'unpause'], load: () => import('./compose-lifecycle.js') },
  { commands: ['exec'], load: () => import('./compose-exec.js') },
  { commands: ['run'], load: () => import('./compose-run.js') },
  { commands: ['top', 'port', 'images', 'ls', 'version'], load: () => import('./compose-info.js') },
  { commands: ['events', 'wait'], load: () => import('./compose-events.js') },
  { commands: ['volumes', 'stats'], load: () => import('./compose-resources.js') },
  { commands: ['scale', 'publish', 'bridge'], load: () => import('./compose-scale.js') },
  { commands: ['cp'], load: () => import('./compose-cp.js') },
  { commands: ['watch'], load: () => import('./compose-watch.js') },
  { commands: ['attach', 'export'], load: () => import('./compose-attach.js') },
  { commands: ['build'], load: () => import('./build.js') },
  { commands: ['pull'], load: () => import('./pull.js') },
  { commands: ['push'], load: () => import('./push.js') },
  { commands: ['commit'], load: () => import('./commit.js') },
  { commands: ['config', 'convert'], load: () => import('./config.js') },
  { commands: ['image'], load: () => import('./image.js') },
  { commands: ['network'], load: () => import('./network.js') },
  { commands: ['container'], load: () => import('./container.js') },
  { commands: ['volume'], load: () => import('./volume.js') },
  { commands: ['login', 'logout'], load: () => import('./login.js') },
  { commands: ['system'], load: () => import('./system.js') },
  { commands: ['info'], load: () => import('./info.js') },
  { commands: ['completion', '__complete'], load: () => import('./completion.js'), needsAll: true },
];

/** Global options that take a value in the next argument, to skip when looking for the command word. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['-f', '--file', '-p', '--project-name', '--project-directory', '--env-file', '--profile', '--progress', '--ansi', '--parallel', '--backend']);

/** The first word of `args` (argv without node and script) that is not a global option or its value. */
export function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return args[i + 1];
    if (!arg.startsWith('-')) return arg;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) i++;
  }
  return undefined;
}

/** Commands whose next word names what they do (`container run`, `image ls`). */
const OBJECT_COMMANDS = new Set(['container', 'image', 'network', 'volume', 'system']);

/**
 * What this run does, for the code cache's launcher (dist/bundle/compile-cache.cjs): the first run of
 * each command adds the functions it compiled to the cache. `up`, `container run`; no service names.
 */
export function commandKey(args: readonly string[]): string | undefined {
  const word = commandWord(args);
  if (word === undefined || !OBJECT_COMMANDS.has(word)) return word;
  const sub = args.slice(args.indexOf(word) + 1).find((a) => !a.startsWith('-'));
  return sub === undefined ? word : `${word} ${sub}`;
}

/** Registers the module of the command in `args`, or every module when there is none to pick (help, a typo). */
export async function registerCommands(program: Command, args: readonly string[] = []): Promise<void> {
  const word = commandWord(args);
  if (word === undefined && args.some((a) => a === '-v' || a === '--version')) return; // the version needs no command
  const found = word === undefined || word === 'help' ? undefined : commandModules.find((m) => m.commands.includes(word));
  if (found && !found.needsAll) (globalThis as Record<symbol, unknown>)[Symbol.for('tscompose.command')] = commandKey(args);
  const only = found?.needsAll ? undefined : found;
  const modules = only ? [only] : commandModules;
  const loaded = await Promise.all(modules.map((m) => m.load()));
  for (const mod of loaded) mod.register(program);
}
