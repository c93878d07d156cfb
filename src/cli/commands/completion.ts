import { Argument, type Command } from 'commander';
import { complete, type GlobalWords, type Lookup } from '../completion/complete.js';
import { completionScript, FILES_MARKER, SHELLS, type Shell } from '../completion/scripts.js';
import { openEngine } from '../../compose/engine.js';
import { loadProject } from '../../project/load.js';
import type { BackendName } from '../../engine/types.js';

/**
 * `completion bash|zsh|fish` prints the shell's script; `__complete` (hidden)
 * is what the script calls at each TAB. Both need the whole command tree,
 * which the command table registers for them (commands/index.ts).
 */
export function register(program: Command): void {
  program
    .command('completion')
    .description('Print the shell completion script (bash, zsh or fish): verbs, flags, services and containers')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText('after', '\nLoad it with: source <(tscompose completion bash)  |  source <(tscompose completion zsh)  |  tscompose completion fish | source')
    .action((shell: Shell) => {
      process.stdout.write(completionScript(shell));
    });
  program
    .command('__complete', { hidden: true })
    .description('Candidates for the last word of a command line (used by the completion scripts)')
    .argument('[words...]')
    .helpOption(false)
    .action(async (words: string[] = []) => {
      const answer = await complete(program, words.length ? words : [''], lookup);
      process.stdout.write('files' in answer ? `${FILES_MARKER}\n` : answer.words.map((w) => `${w}\n`).join(''));
    });
}

/** Names from the compose file the command line names, or from its engine. */
const lookup: Lookup = async (kind, g: GlobalWords) => {
  if (kind === 'service') {
    const project = await loadProject({
      configFiles: g.files.length ? g.files : undefined, projectName: g.projectName, projectDirectory: g.projectDirectory,
      envFiles: g.envFiles.length ? g.envFiles : undefined, profiles: g.profiles, onWarning: () => undefined, keepUnusedResources: true,
    });
    return [...Object.keys(project.services), ...Object.keys(project.disabledServices)];
  }
  const engine = await openEngine((g.backend as BackendName | undefined) ?? (process.env.TSCOMPOSE_BACKEND === 'docker' ? 'docker' : 'native'));
  try {
    switch (kind) {
      case 'container':
        return (await engine.containers.list({ all: true })).map((c) => c.name);
      case 'image':
        return (await engine.images.list()).flatMap((i) => i.repoTags);
      case 'network':
        return (await engine.networks.list()).map((n) => n.name);
      case 'volume':
        return (await engine.volumes.list()).map((v) => v.name);
    }
  } finally {
    await engine.close();
  }
};
