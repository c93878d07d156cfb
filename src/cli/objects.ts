import type { Command } from 'commander';
import { openEngine, type Engine } from '../compose/engine.js';
import { UserError, errorMessage } from '../util/errors.js';

/**
 * The engine behind the object verbs (`container`, `image`, `volume`,
 * `network`, `commit`): the native engine, through the same Engine interface
 * the compose verbs drive, so that both routes record the same intents,
 * journal the same events and wire the same networks. With --backend docker
 * the docker CLI is the tool for a Docker Engine's objects.
 */

const REFUSALS: Record<string, [string, string]> = {
  container: ["tscompose container manages the native engine's containers; with --backend docker, use `docker container`", 'Drop --backend docker (or TSCOMPOSE_BACKEND=docker) for this command'],
  image: ["tscompose image manages the native engine's images; with --backend docker, use `docker image` on the Docker Engine", 'Drop --backend docker (or TSCOMPOSE_BACKEND=docker) for this command'],
  volume: ["tscompose volume manages the native engine's volumes; with --backend docker, use `docker volume`", 'Drop --backend docker (or TSCOMPOSE_BACKEND=docker) for this command'],
  network: ["`tscompose network` manages the native engine's networks", "use `docker network ...` for a Docker Engine's networks"],
};

const ROOT: Record<string, string> = {
  container: 'tscompose container needs root: containers are made of namespaces, cgroups and mounts',
  image: 'tscompose image needs root: layers are unpacked with their owners and device nodes, and mounted with overlayfs',
  volume: "tscompose volume needs root: volumes live in the engine's root-only state",
};

/** The native engine for an object verb of `group` (its first word, or the verb for `commit`, `image pull`...). */
export async function objectEngine(cmd: Command, group: string): Promise<Engine> {
  const backend = (cmd.optsWithGlobals() as { backend?: string }).backend;
  if (backend === 'docker') {
    const [message, hint] = REFUSALS[group] ?? [`tscompose ${group} works on the native engine; with --backend docker, use the docker CLI`, 'Drop --backend docker (or TSCOMPOSE_BACKEND=docker) for this command'];
    throw new UserError(message, 1, hint);
  }
  if (backend === 'swarm') {
    throw new UserError(`tscompose ${group} works on the native engine; a swarm's ${group}s live on its nodes (use docker there)`, 1, 'Drop --backend swarm (or TSCOMPOSE_BACKEND=swarm) for this command');
  }
  if (process.getuid?.() !== 0) {
    throw new UserError(ROOT[group] ?? `tscompose ${group} needs root: layers are unpacked with their owners, and mounted with overlayfs`);
  }
  return openEngine('native');
}

/** Runs `fn` for each argument as docker does: errors are printed, the others still run, exit 1 if any failed. */
export async function forEach(refs: string[], fn: (ref: string) => Promise<void>, prefix = 'Error response from daemon: '): Promise<void> {
  let failed = false;
  for (const ref of refs) {
    try {
      await fn(ref);
    } catch (err) {
      failed = true;
      process.stderr.write(`${prefix}${errorMessage(err)}\n`);
    }
  }
  if (failed) process.exitCode = 1;
}

/** `logs | head` closes the pipe early: that ends the command, quietly, as it does for docker. Idempotent. */
let endingOnClosedStdout = false;
export function endOnClosedStdout(): void {
  if (endingOnClosedStdout) return;
  endingOnClosedStdout = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
