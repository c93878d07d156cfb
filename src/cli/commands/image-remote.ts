import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { collect } from './compose-context.js';
import { UserError } from '../../util/errors.js';
import type { ImageStore } from '../../engine/native/image/index.js';
import type { ContainerRuntime } from '../../engine/native/runtime/index.js';
import { TransferRenderer } from './image-remote-progress.js';

/**
 * The image commands that reach beyond the store: `image pull`, `image
 * push`, `image build`, `image bootstrap debian:<suite>`, attached to the
 * `image` group by registerImageRemote(). The registry client and the
 * builder are imported when a command runs.
 */

/** The --backend global option of a command. */
export function backendOf(cmd: Command): string | undefined {
  return (cmd.optsWithGlobals() as { backend?: string }).backend;
}

function checkNative(backend: string | undefined, what: string): void {
  if (backend === 'docker') {
    throw new UserError(`tscompose ${what} works on the native engine; with --backend docker, use the docker CLI`, 1,
      'Drop --backend docker (or TSCOMPOSE_BACKEND=docker) for this command');
  }
  if (process.getuid?.() !== 0) throw new UserError(`tscompose ${what} needs root: layers are unpacked with their owners, and mounted with overlayfs`);
}

export async function openStore(backend: string | undefined, what: string): Promise<ImageStore> {
  checkNative(backend, what);
  const { ImageStore } = await import('../../engine/native/image/index.js');
  return ImageStore.open();
}

/** The store and a runtime over it, for commits. */
export async function openNative(backend: string | undefined, what: string): Promise<{ store: ImageStore; runtime: ContainerRuntime }> {
  const store = await openStore(backend, what);
  const { ContainerRuntime } = await import('../../engine/native/runtime/index.js');
  return { store, runtime: await ContainerRuntime.open({ images: store }) };
}

/** The store, and the runtime opened only if a RUN step has to run (a build from the cache never loads it). */
export async function openBuildDeps(backend: string | undefined, what: string): Promise<{ store: ImageStore; runtime: () => Promise<ContainerRuntime> }> {
  const store = await openStore(backend, what);
  return {
    store,
    runtime: async () => {
      const { ContainerRuntime } = await import('../../engine/native/runtime/index.js');
      return ContainerRuntime.open({ images: store });
    },
  };
}

/** An AbortSignal that the first Ctrl-C (or SIGTERM) fires, so a pull or build stops and cleans up. */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onSignal = () => {
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { signal: ac.signal, dispose: () => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); } };
}

export interface BuildFlags {
  tag?: string[];
  file?: string;
  buildArg?: string[];
  target?: string;
  cache?: boolean;
  pull?: boolean;
  network?: string;
  label?: string[];
  quiet?: boolean;
  platform?: string;
  addHost?: string[];
}

export function parseKeyValues(list: string[] | undefined, flag: string, fromEnv: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq === 0) throw new UserError(`invalid ${flag} "${item}"`, 1, `Write ${flag} KEY=VALUE`);
    if (eq < 0) {
      // --build-arg NAME takes NAME's value from the environment, as docker does.
      const v = fromEnv ? process.env[item] : '';
      if (v !== undefined) out[item] = v;
      continue;
    }
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export function addBuildOptions(c: Command): Command {
  return c
    .option('-t, --tag <name>', 'Name and optionally a tag (NAME[:TAG]), repeatable', collect)
    .option('-f, --file <path>', 'Name of the Dockerfile (default: PATH/Dockerfile)')
    .option('--build-arg <arg>', 'Set a build-time variable (KEY=VALUE, or KEY to take it from the environment), repeatable', collect)
    .option('--target <stage>', 'Set the target build stage to build')
    .option('--no-cache', 'Do not use the cache when building the image')
    .option('--pull', 'Always attempt to pull a newer version of the base images')
    .option('--network <mode>', 'Networking mode for the RUN instructions: host (default) or none')
    .option('--label <label>', 'Set metadata for the image (KEY=VALUE), repeatable', collect)
    .option('-q, --quiet', 'Suppress the build output and print the image ID on success')
    .option('--platform <platform>', 'Set the platform (only this host\'s)')
    .option('--add-host <host:ip>', 'Add a custom host-to-IP mapping for RUN steps, repeatable', collect);
}

function buildNetwork(n: string | undefined): 'host' | 'none' | undefined {
  if (n === undefined) return undefined;
  if (n === 'host' || n === 'none') return n;
  if (n === 'default') return 'host';
  throw new UserError(`unsupported --network ${n} for builds`, 1, 'Use host (the default) or none');
}

export function register(image: Command): void {
  image.command('pull')
    .description('Download an image from a registry')
    .argument('<name>', 'NAME[:TAG|@DIGEST]')
    .option('--platform <platform>', 'Set the platform (OS/ARCH[/VARIANT]) of a multi-platform image')
    .option('-q, --quiet', 'Suppress verbose output')
    .option('-a, --all-tags', 'Download all tagged images in the repository')
    .action(async (name: string, o: { platform?: string; quiet?: boolean; allTags?: boolean }, cmd: Command) => {
      if (o.allTags) throw new UserError('--all-tags is not supported', 1, 'Pull the tags you need one by one');
      const store = await openStore(backendOf(cmd), 'image pull');
      const { pullImage } = await import('../../engine/native/registry/index.js');
      const render = new TransferRenderer();
      const int = interruptSignal();
      try {
        await pullImage(store, name, { ...(o.platform ? { platform: o.platform } : {}), signal: int.signal, ...(o.quiet ? {} : { onProgress: render.onProgress }) });
        render.flushFrame();
        const { referenceString, parseReference, withDefaultTag } = await import('../../engine/native/image/index.js');
        process.stdout.write(`${referenceString(withDefaultTag(parseReference(name)))}\n`);
      } finally {
        int.dispose();
      }
    });

  image.command('push')
    .description('Upload an image to a registry')
    .argument('<name>', 'NAME[:TAG]')
    .option('-q, --quiet', 'Suppress verbose output')
    .action(async (name: string, o: { quiet?: boolean }, cmd: Command) => {
      const store = await openStore(backendOf(cmd), 'image push');
      const { pushImage } = await import('../../engine/native/registry/index.js');
      const render = new TransferRenderer();
      const int = interruptSignal();
      try {
        const r = await pushImage(store, name, { signal: int.signal, ...(o.quiet ? {} : { onProgress: render.onProgress }) });
        render.flushFrame();
        if (o.quiet) process.stdout.write(`${r.reference}\n`);
      } finally {
        int.dispose();
      }
    });

  addBuildOptions(image.command('build'))
    .description('Build an image from a Dockerfile')
    .argument('<path>', 'The build context directory')
    .action(async (path: string, o: BuildFlags, cmd: Command) => {
      const deps = await openBuildDeps(backendOf(cmd), 'image build');
      const { buildImage } = await import('../../build/builder.js');
      const int = interruptSignal();
      try {
        const result = await buildImage(deps, {
          context: resolve(path),
          ...(o.file ? { dockerfile: resolve(o.file) } : {}),
          args: parseKeyValues(o.buildArg, '--build-arg', true),
          ...(o.target ? { target: o.target } : {}),
          tags: o.tag ?? [],
          labels: parseKeyValues(o.label, '--label', false),
          ...(buildNetwork(o.network) ? { network: buildNetwork(o.network)! } : {}),
          noCache: o.cache === false,
          pull: !!o.pull,
          ...(o.platform ? { platform: o.platform } : {}),
          ...(o.addHost?.length ? { extraHosts: o.addHost } : {}),
          signal: int.signal,
          ...(o.quiet ? {} : { onLine: (l: string) => process.stdout.write(`${l}\n`) }),
        });
        if (o.quiet) process.stdout.write(`${result.imageId}\n`);
      } finally {
        int.dispose();
      }
    });

  image.command('bootstrap')
    .description('Make a Debian base image (debian:<suite>) here with debootstrap, for machines that reach no registry')
    .argument('<image>', 'debian:<suite>, e.g. debian:bookworm')
    .option('--refresh', 'Make it again even when a cached root filesystem exists')
    .option('--cache-dir <dir>', 'Keep the root filesystem tar there, and reuse it next time')
    .action(async (ref: string, o: { refresh?: boolean; cacheDir?: string }, cmd: Command) => {
      const store = await openStore(backendOf(cmd), 'image bootstrap');
      const { bootstrapDebianImage } = await import('../../build/bootstrap-image.js');
      const image = await bootstrapDebianImage(store, ref, {
        ...(o.refresh ? { refresh: true } : {}),
        ...(o.cacheDir ? { cacheDir: resolve(o.cacheDir) } : {}),
        onLine: (l) => process.stderr.write(`${l}\n`),
      });
      process.stdout.write(`${image.id}\n`);
    });
}

/** Reads a password from stdin (login --password-stdin), without its last newline. */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question('Password: ');
    } finally {
      rl.close();
    }
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
