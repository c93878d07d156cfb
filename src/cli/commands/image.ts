import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import { UserError, errorMessage } from '../../util/errors.js';
import type { BuildRequest, Engine, ImageSummary } from '../../engine/types.js';
import { filterRows, historyRows, imageRows, rowsOfRepository } from '../present/images.js';
import { humanSize, renderTemplate, table } from '../present/docker.js';
import { TransferRenderer } from '../progress/transfer.js';
import { collect, parseKeyValues } from '../flags.js';
import { confirm } from '../terminal.js';
import { objectEngine } from '../objects.js';

/**
 * `tscompose image ...`: the native engine's images, with the docker CLI's
 * verbs, flags and output, driven through the Engine; `pull`, `push`,
 * `build` and `bootstrap` reach beyond the store (a registry, the builder,
 * debootstrap).
 */

function out(text: string): void {
  process.stdout.write(text);
}

function printFormatted<T>(rows: T[], format: string | undefined, columns: [string, (r: T) => string][], quietKey?: (r: T) => string, quiet?: boolean): void {
  if (quiet && quietKey) {
    out([...new Set(rows.map(quietKey))].map((l) => `${l}\n`).join(''));
  } else if (format === 'json') {
    out(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  } else if (format && format !== 'table') {
    const tpl = format.replace(/^table\s+/, '');
    const lines = rows.map((r) => renderTemplate(tpl, r));
    out(format.startsWith('table ') ? table([tpl.split('\t').map((c) => c.replace(/\{\{\s*\.(\w+)\s*\}\}/g, '$1').toUpperCase()), ...lines.map((l) => l.split('\t'))]) : lines.map((l) => `${l}\n`).join(''));
  } else {
    out(table([columns.map(([h]) => h), ...rows.map((r) => columns.map(([, f]) => f(r)))]));
  }
}

/** Writes to a temp file next to `path` and renames it into place: no half-written file on failure. */
async function writeAtomically(path: string, write: (stream: Writable) => Promise<void>): Promise<void> {
  if (!existsSync(dirname(path))) throw new UserError(`open ${path}: no such file or directory`, 1, `Create ${dirname(path)} first`);
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const stream = createWriteStream(tmp, { mode: 0o600 });
  try {
    await write(stream);
    renameSync(tmp, path);
  } catch (err) {
    // The file may be opened after the error (the stream opens asynchronously): remove it once closed.
    if (!stream.closed) await new Promise<void>((r) => { stream.once('close', () => r()); stream.destroy(); });
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** An AbortSignal that the first Ctrl-C (or SIGTERM) fires, so a pull or build stops and cleans up. */
function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onSignal = () => {
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { signal: ac.signal, dispose: () => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); } };
}

async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const int = interruptSignal();
  try {
    return await fn(int.signal);
  } finally {
    int.dispose();
  }
}

interface BuildFlags {
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
  progress?: 'auto' | 'plain' | 'tty' | 'quiet' | 'rawjson';
}

function buildNetwork(n: string | undefined): 'host' | 'none' | undefined {
  if (n === undefined) return undefined;
  if (n === 'host' || n === 'none') return n;
  if (n === 'default') return 'host';
  throw new UserError(`unsupported --network ${n} for builds`, 1, 'Use host (the default) or none');
}

function buildRequest(path: string, o: BuildFlags): BuildRequest {
  const network = buildNetwork(o.network);
  return {
    context: resolve(path),
    ...(o.file ? { dockerfile: resolve(o.file) } : {}),
    args: parseKeyValues(o.buildArg, '--build-arg', true),
    ...(o.target ? { target: o.target } : {}),
    tags: o.tag ?? [],
    labels: parseKeyValues(o.label, '--label', false),
    ...(network ? { network } : {}),
    noCache: o.cache === false,
    pull: !!o.pull,
    ...(o.platform ? { platform: o.platform } : {}),
    ...(o.addHost?.length ? { extraHosts: o.addHost } : {}),
    ...(o.quiet || o.progress === 'quiet' ? {} : { onProgress: o.progress === 'rawjson' ? (p) => out(`${JSON.stringify(p)}\n`) : (p) => out(`${p.status}\n`) }),
  };
}

export function register(program: Command): void {
  const image = program.command('image').description('Manage images of the native engine');
  const engineOf = (cmd: Command) => objectEngine(cmd, 'image');

  image.command('ls').alias('list')
    .description('List images')
    .argument('[repository]', 'Only images of this repository[:tag]')
    .option('-a, --all', 'Show all images (there are no intermediate images: same as without)')
    .option('-q, --quiet', 'Only display image IDs')
    .option('--digests', 'Show digests')
    .option('--no-trunc', "Don't truncate output")
    .option('--format <format>', 'Format output: table, json, or a Go template')
    .option('-f, --filter <filter>', 'Filter output: dangling=, reference=, label=, before=, since= (repeatable)', collect)
    .action(async (repository: string | undefined, opts: { quiet?: boolean; digests?: boolean; trunc?: boolean; format?: string; filter?: string[] }, cmd: Command) => {
      const engine = await engineOf(cmd);
      let rows = imageRows(await engine.images.list(), { noTrunc: opts.trunc === false });
      if (repository) rows = rowsOfRepository(rows, repository);
      if (opts.filter?.length) {
        const named = new Map<string, ImageSummary>();
        for (const f of opts.filter) {
          const m = /^(before|since)=(.*)$/.exec(f);
          const img = m ? await engine.images.inspect(m[2]!) : undefined;
          if (m && img) named.set(m[2]!, img);
        }
        rows = filterRows(rows, opts.filter, named);
      }
      const view = rows.map(({ image: _, ...row }) => row);
      const cols: [string, (r: (typeof view)[number]) => string][] = [['REPOSITORY', (r) => r.Repository], ['TAG', (r) => r.Tag]];
      if (opts.digests) cols.push(['DIGEST', (r) => r.Digest]);
      cols.push(['IMAGE ID', (r) => r.ID], ['CREATED', (r) => r.CreatedSince], ['SIZE', (r) => r.Size]);
      printFormatted(view, opts.format, cols, (r) => r.ID, opts.quiet);
    });

  image.command('inspect')
    .description('Display detailed information on one or more images')
    .argument('<image...>')
    .option('-f, --format <format>', 'Format output using a Go template')
    .action(async (refs: string[], opts: { format?: string }, cmd: Command) => {
      const engine = await engineOf(cmd);
      const found: unknown[] = [];
      const errors: string[] = [];
      for (const ref of refs) {
        const img = await engine.images.inspectRaw(ref);
        if (img) found.push(img);
        else errors.push(`Error: No such image: ${ref}`);
      }
      if (opts.format) out(found.map((f) => `${renderTemplate(opts.format!, f)}\n`).join(''));
      else out(`${JSON.stringify(found, null, 4)}\n`);
      if (errors.length) {
        process.stderr.write(errors.map((e) => `${e}\n`).join(''));
        process.exitCode = 1;
      }
    });

  image.command('history')
    .description('Show the history of an image')
    .argument('<image>')
    .option('-H, --human', 'Print sizes and dates in human readable format', true)
    .option('--no-human', 'Print sizes in bytes')
    .option('-q, --quiet', 'Only show image IDs')
    .option('--no-trunc', "Don't truncate output")
    .option('--format <format>', 'Format output: table, json, or a Go template')
    .action(async (ref: string, opts: { human?: boolean; quiet?: boolean; trunc?: boolean; format?: string }, cmd: Command) => {
      const engine = await engineOf(cmd);
      const rows = historyRows(await engine.images.history(ref), { noTrunc: opts.trunc === false, human: opts.human !== false });
      printFormatted(rows, opts.format, [
        ['IMAGE', (r) => r.ID], ['CREATED', (r) => (opts.human === false ? r.CreatedAt : r.CreatedSince)],
        ['CREATED BY', (r) => r.CreatedBy], ['SIZE', (r) => r.Size], ['COMMENT', (r) => r.Comment],
      ], (r) => r.ID, opts.quiet);
    });

  image.command('tag')
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>', 'SOURCE_IMAGE[:TAG]')
    .argument('<target>', 'TARGET_IMAGE[:TAG]')
    .action(async (source: string, target: string, _opts: unknown, cmd: Command) => {
      await (await engineOf(cmd)).images.tag(source, target);
    });

  image.command('rm').alias('remove')
    .description('Remove one or more images')
    .argument('<image...>')
    .option('-f, --force', 'Force removal of the image (even when a container uses it)')
    .action(async (refs: string[], opts: { force?: boolean }, cmd: Command) => {
      const engine = await engineOf(cmd);
      for (const ref of refs) {
        try {
          const report = await engine.images.remove(ref, { force: !!opts.force });
          out(report.untagged.map((u) => `Untagged: ${u}\n`).join('') + report.deleted.map((d) => `Deleted: ${d}\n`).join(''));
        } catch (err) {
          if (!(err instanceof UserError)) throw err;
          process.stderr.write(`Error: ${errorMessage(err)}\n`);
          process.exitCode = 1;
        }
      }
    });

  image.command('prune')
    .description('Remove unused images')
    .option('-a, --all', 'Remove all unused images, not just dangling ones')
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (opts: { all?: boolean; force?: boolean }, cmd: Command) => {
      const engine = await engineOf(cmd);
      if (!opts.force) {
        const what = opts.all ? 'all images without at least one container associated to them' : 'all dangling images';
        if (!(await confirm(`WARNING! This will remove ${what}.\nAre you sure you want to continue? [y/N] `, process.stdout))) return;
      }
      const report = await engine.images.prune({ all: !!opts.all });
      if (report.untagged.length + report.deleted.length) {
        out('Deleted Images:\n' + report.untagged.map((u) => `untagged: ${u}\n`).join('') + report.deleted.map((d) => `deleted: ${d}\n`).join('') + '\n');
      }
      out(`Total reclaimed space: ${humanSize(report.reclaimedBytes)}\n`);
    });

  image.command('import')
    .description('Import the contents from a tarball to create a filesystem image')
    .argument('<file>', 'A root filesystem tar (gzip or plain), or - for stdin')
    .argument('[reference]', 'REPOSITORY[:TAG]')
    .option('-c, --change <instruction>', 'Apply a Dockerfile instruction to the image config (repeatable)', collect)
    .option('-m, --message <message>', 'Set the commit message for the imported image')
    .action(async (file: string, reference: string | undefined, opts: { change?: string[]; message?: string }, cmd: Command) => {
      const engine = await engineOf(cmd);
      const id = await engine.images.importRootfs(file === '-' ? process.stdin : file, {
        tags: reference ? [reference] : [],
        changes: opts.change ?? [],
        ...(opts.message !== undefined ? { message: opts.message } : {}),
      });
      out(`${id}\n`);
    });

  image.command('load')
    .description('Load images from a tar archive (docker save, OCI layout) or STDIN')
    .option('-i, --input <file>', 'Read from a tar archive file (or an OCI layout dir) instead of STDIN')
    .option('-q, --quiet', 'Suppress the load output')
    .action(async (opts: { input?: string; quiet?: boolean }, cmd: Command) => {
      const engine = await engineOf(cmd);
      if (!opts.input && process.stdin.isTTY) {
        throw new UserError('requested load from stdin, but stdin is empty', 1, 'Use -i FILE, or pipe an archive in');
      }
      // The lines without a layer id are the daemon's summary (`Loaded image: x`), which docker load prints.
      await engine.images.load(opts.input ?? process.stdin, opts.quiet ? undefined : (p) => { if (!p.id) out(`${p.status}\n`); });
    });

  image.command('save')
    .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .argument('<image...>')
    .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
    .action(async (refs: string[], opts: { output?: string }, cmd: Command) => {
      const engine = await engineOf(cmd);
      if (opts.output) {
        await writeAtomically(opts.output, (stream) => engine.images.save(refs, stream));
        return;
      }
      if (process.stdout.isTTY) throw new UserError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      await engine.images.save(refs, process.stdout);
    });

  image.command('pull')
    .description('Download an image from a registry')
    .argument('<name>', 'NAME[:TAG|@DIGEST]')
    .option('--platform <platform>', 'Set the platform (OS/ARCH[/VARIANT]) of a multi-platform image')
    .option('-q, --quiet', 'Suppress verbose output')
    .option('-a, --all-tags', 'Download all tagged images in the repository')
    .action(async (name: string, o: { platform?: string; quiet?: boolean; allTags?: boolean }, cmd: Command) => {
      if (o.allTags) throw new UserError('--all-tags is not supported', 1, 'Pull the tags you need one by one');
      const engine = await objectEngine(cmd, 'image pull');
      const render = new TransferRenderer();
      const { reference } = await interruptible((signal) => engine.images.pull(name, { ...(o.platform ? { platform: o.platform } : {}), signal, ...(o.quiet ? {} : { onProgress: render.onProgress }) }));
      render.flushFrame();
      out(`${reference}\n`);
    });

  image.command('push')
    .description('Upload an image to a registry')
    .argument('<name>', 'NAME[:TAG]')
    .option('-q, --quiet', 'Suppress verbose output')
    .action(async (name: string, o: { quiet?: boolean }, cmd: Command) => {
      const engine = await objectEngine(cmd, 'image push');
      const render = new TransferRenderer();
      const r = await interruptible((signal) => engine.images.push(name, { signal, ...(o.quiet ? {} : { onProgress: render.onProgress }) }));
      render.flushFrame();
      if (o.quiet) out(`${r.reference}\n`);
    });

  image.command('build')
    .description('Build an image from a Dockerfile')
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
    .option('--add-host <host:ip>', 'Add a custom host-to-IP mapping for RUN steps, repeatable', collect)
    .addOption(new Option('--progress <type>', 'Type of progress output: the build steps as lines (auto, plain, tty), as JSON lines (rawjson), or none (quiet)').choices(['auto', 'plain', 'tty', 'quiet', 'rawjson']))
    .argument('<path>', 'The build context directory')
    .action(async (path: string, o: BuildFlags, cmd: Command) => {
      const engine = await objectEngine(cmd, 'image build');
      const id = await interruptible((signal) => engine.images.build({ ...buildRequest(path, o), signal }));
      if (o.quiet) out(`${id}\n`);
    });

  image.command('bootstrap')
    .description('Make a Debian base image (debian:<suite>) here with debootstrap, for machines that reach no registry')
    .argument('<image>', 'debian:<suite>, e.g. debian:bookworm')
    .option('--refresh', 'Make it again even when a cached root filesystem exists')
    .option('--cache-dir <dir>', 'Keep the root filesystem tar there, and reuse it next time')
    .action(async (ref: string, o: { refresh?: boolean; cacheDir?: string }, cmd: Command) => {
      const engine: Engine = await objectEngine(cmd, 'image bootstrap');
      if (!engine.images.bootstrap) throw new UserError('image bootstrap needs the native engine');
      const id = await engine.images.bootstrap(ref, {
        ...(o.refresh ? { refresh: true } : {}),
        ...(o.cacheDir ? { cacheDir: resolve(o.cacheDir) } : {}),
        onLine: (l) => process.stderr.write(`${l}\n`),
      });
      out(`${id}\n`);
    });
}
