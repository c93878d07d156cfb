import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { UserError, errorMessage } from '../../util/errors.js';
import { ImageStore, importRootfsTar, familiarString, parseReference, normalizeTaggedName, type ImageRecord } from '../../engine/native/image/index.js';
import { loadArchive } from '../../engine/native/image/archive/load.js';
import { applyConfigChanges } from '../../build/commit.js';
import { saveImages } from '../../engine/native/image/archive/save.js';
import {
  filterRows, historyRows, humanSize, imageRows, inspectImage, renderTemplate, table,
} from '../../engine/native/image/present.js';
import { register as registerImageRemote } from './image-remote.js';

/**
 * `tscompose image ...`: the native engine's images, with the docker CLI's
 * verbs, flags and output.
 */

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function openStore(cmd: Command): Promise<ImageStore> {
  const opts = cmd.optsWithGlobals() as { backend?: string };
  if (opts.backend === 'docker') {
    throw new UserError('tscompose image manages the native engine\'s images; with --backend docker, use `docker image` on the Docker Engine', 1,
      'Drop --backend docker (or TSCOMPOSE_BACKEND=docker) for this command');
  }
  if (process.getuid?.() !== 0) {
    throw new UserError('tscompose image needs root: layers are unpacked with their owners and device nodes, and mounted with overlayfs');
  }
  return ImageStore.open();
}

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
    if (!stream.closed) await new Promise<void>((resolve) => { stream.once('close', () => resolve()); stream.destroy(); });
    rmSync(tmp, { force: true });
    throw err;
  }
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function register(program: Command): void {
  const image = program.command('image').description('Manage images of the native engine');
  registerImageRemote(image);

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
      const store = await openStore(cmd);
      const images = await store.list();
      let rows = imageRows(images, { noTrunc: opts.trunc === false });
      if (opts.filter?.length) {
        const named = new Map<string, ImageRecord>();
        for (const f of opts.filter) {
          const m = /^(before|since)=(.*)$/.exec(f);
          if (m) named.set(m[2]!, await store.get(m[2]!));
        }
        rows = filterRows(rows, images, opts.filter, named);
      }
      if (repository) {
        const want = parseReference(repository);
        const repo = familiarString({ domain: want.domain, path: want.path });
        rows = rows.filter((r) => r.Repository === repo && (want.tag === undefined || r.Tag === want.tag));
      }
      const cols: [string, (r: (typeof rows)[number]) => string][] = [['REPOSITORY', (r) => r.Repository], ['TAG', (r) => r.Tag]];
      if (opts.digests) cols.push(['DIGEST', (r) => r.Digest]);
      cols.push(['IMAGE ID', (r) => r.ID], ['CREATED', (r) => r.CreatedSince], ['SIZE', (r) => r.Size]);
      printFormatted(rows, opts.format, cols, (r) => r.ID, opts.quiet);
    });

  image.command('inspect')
    .description('Display detailed information on one or more images')
    .argument('<image...>')
    .option('-f, --format <format>', 'Format output using a Go template')
    .action(async (refs: string[], opts: { format?: string }, cmd: Command) => {
      const store = await openStore(cmd);
      const found: Record<string, unknown>[] = [];
      const errors: string[] = [];
      for (const ref of refs) {
        const img = await store.resolve(ref);
        if (img) found.push(inspectImage(store, img));
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
      const store = await openStore(cmd);
      const rows = historyRows(store, await store.get(ref), { noTrunc: opts.trunc === false, human: opts.human !== false });
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
      await (await openStore(cmd)).tag(source, target);
    });

  image.command('rm').alias('remove')
    .description('Remove one or more images')
    .argument('<image...>')
    .option('-f, --force', 'Force removal of the image (even when a container uses it)')
    .action(async (refs: string[], opts: { force?: boolean }, cmd: Command) => {
      const store = await openStore(cmd);
      for (const ref of refs) {
        try {
          const report = await store.remove(ref, { force: !!opts.force });
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
      const store = await openStore(cmd);
      if (!opts.force) {
        const what = opts.all ? 'all images without at least one container associated to them' : 'all dangling images';
        if (!(await confirm(`WARNING! This will remove ${what}.\nAre you sure you want to continue? [y/N] `))) return;
      }
      const report = await store.prune({ all: !!opts.all });
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
      // A bad name or instruction fails before the tar is read.
      if (reference) normalizeTaggedName(reference);
      const changes = opts.change ?? [];
      applyConfigChanges({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }, changes);
      const store = await openStore(cmd);
      const input = file === '-' ? process.stdin : file;
      const { image: img } = await importRootfsTar(store, input, {
        tags: reference ? [reference] : [],
        configure: (config) => applyConfigChanges(config, changes),
        source: file,
        ...(opts.message !== undefined ? { message: opts.message } : {}),
      });
      out(`${img.id}\n`);
    });

  image.command('load')
    .description('Load images from a tar archive (docker save, OCI layout) or STDIN')
    .option('-i, --input <file>', 'Read from a tar archive file (or an OCI layout dir) instead of STDIN')
    .option('-q, --quiet', 'Suppress the load output')
    .action(async (opts: { input?: string; quiet?: boolean }, cmd: Command) => {
      const store = await openStore(cmd);
      if (!opts.input && process.stdin.isTTY) {
        throw new UserError('requested load from stdin, but stdin is empty', 1, 'Use -i FILE, or pipe an archive in');
      }
      const loaded = await loadArchive(store, opts.input ?? process.stdin);
      if (opts.quiet) return;
      for (const l of loaded) {
        for (const r of l.retagged) out(`The image ${r.tag} already exists, renaming the old one with ID ${r.previousId} to empty string\n`);
        if (l.tags.length) out(l.tags.map((t) => `Loaded image: ${t}\n`).join(''));
        else out(`Loaded image ID: ${l.id}\n`);
      }
    });

  image.command('save')
    .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .argument('<image...>')
    .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
    .action(async (refs: string[], opts: { output?: string }, cmd: Command) => {
      const store = await openStore(cmd);
      if (opts.output) {
        await writeAtomically(opts.output, (stream) => saveImages(store, refs, stream));
        return;
      }
      if (process.stdout.isTTY) throw new UserError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      await saveImages(store, refs, process.stdout);
    });
}
