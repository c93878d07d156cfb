import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { UserError, errorMessage } from '../../util/errors.js';
import { humanSize, renderTemplate, table } from '../../engine/native/image/present.js';
import type { Volume, VolumeStore } from '../../engine/native/runtime/volumes.js';
import { addLabelFilter, parseKeyValues, splitFilter } from '../container/flags.js';

/** `tscompose volume ...`: the native engine's named volumes, as `docker volume ...`. */

const collect = (value: string, previous: string[] = []) => [...previous, value];

async function openVolumes(cmd: Command): Promise<VolumeStore> {
  const opts = cmd.optsWithGlobals() as { backend?: string };
  if (opts.backend === 'docker') {
    throw new UserError('tscompose volume manages the native engine\'s volumes; with --backend docker, use `docker volume`', 1,
      'Drop --backend docker (or TSCOMPOSE_BACKEND=docker) for this command');
  }
  if (process.getuid?.() !== 0) throw new UserError('tscompose volume needs root: volumes live in the engine\'s root-only state');
  const { VolumeStore } = await import('../../engine/native/runtime/volumes.js');
  return new VolumeStore();
}

interface VolumeFilter { labels?: Record<string, string | undefined>; dangling?: boolean; name?: string }

function parseFilters(filters: string[] = []): VolumeFilter {
  const out: VolumeFilter = {};
  for (const f of filters) {
    const [key, value] = splitFilter(f);
    if (key === 'label') out.labels = addLabelFilter(out.labels, value);
    else if (key === 'dangling') out.dangling = ['true', '1'].includes(value);
    else if (key === 'name') out.name = value;
    else if (key === 'driver') { if (value !== 'local') out.name = '\0'; }
    else throw new UserError(`invalid filter '${key}'`, 1, 'use label, dangling, name or driver');
  }
  return out;
}

function render(vols: Volume[], o: { quiet?: boolean; format?: string }): string {
  if (o.quiet) return vols.map((v) => `${v.Name}\n`).join('');
  if (o.format === 'json') return vols.map((v) => `${JSON.stringify({ Driver: v.Driver, Labels: v.Labels, Mountpoint: v.Mountpoint, Name: v.Name, Scope: v.Scope })}\n`).join('');
  if (o.format && o.format !== 'table') return vols.map((v) => `${renderTemplate(o.format!.replace(/^table\s+/, ''), v)}\n`).join('');
  return table([['DRIVER', 'VOLUME NAME'], ...vols.map((v) => [v.Driver, v.Name])]);
}

export function register(program: Command): void {
  const volume = program.command('volume').description('Manage volumes of the native engine');

  volume.command('create')
    .description('Create a volume')
    .argument('[volume]', 'volume name (default: a random one)')
    .option('-d, --driver <string>', 'Specify volume driver name', 'local')
    .option('--label <list>', 'Set metadata for a volume (repeatable)', collect)
    .option('-o, --opt <map>', 'Set driver specific options: type=none, o=bind, device=/host/dir (repeatable)', collect)
    .action(async (name: string | undefined, o: { driver: string; label?: string[]; opt?: string[] }, cmd: Command) => {
      const store = await openVolumes(cmd);
      const v = await store.create({
        ...(name ? { name } : {}),
        driver: o.driver,
        labels: parseKeyValues(o.label, '--label'),
        driverOpts: parseKeyValues(o.opt, '--opt'),
      });
      process.stdout.write(`${v.Name}\n`);
    });

  volume.command('ls').alias('list')
    .description('List volumes')
    .option('-q, --quiet', 'Only display volume names')
    .option('-f, --filter <filter>', 'Provide filter values (label=, dangling=, name=, driver=) (repeatable)', collect)
    .option('--format <string>', "Format output using a template ('table', 'json' or a Go-like template)")
    .action(async (o: { quiet?: boolean; filter?: string[]; format?: string }, cmd: Command) => {
      const store = await openVolumes(cmd);
      process.stdout.write(render(store.list(parseFilters(o.filter)), o));
    });

  volume.command('inspect')
    .description('Display detailed information on one or more volumes')
    .argument('<volume...>')
    .option('-f, --format <string>', 'Format output using a Go-like template')
    .action(async (names: string[], o: { format?: string }, cmd: Command) => {
      const store = await openVolumes(cmd);
      const found: Volume[] = [];
      for (const n of names) {
        try {
          found.push(store.get(n));
        } catch (err) {
          process.stderr.write(`Error: ${errorMessage(err)}\n`);
          process.exitCode = 1;
        }
      }
      if (o.format) process.stdout.write(found.map((v) => `${renderTemplate(o.format!, v)}\n`).join(''));
      else process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
    });

  volume.command('rm').alias('remove')
    .description('Remove one or more volumes')
    .argument('<volume...>')
    .option('-f, --force', 'Do not error on volumes that do not exist')
    .action(async (names: string[], o: { force?: boolean }, cmd: Command) => {
      const store = await openVolumes(cmd);
      for (const n of names) {
        try {
          await store.remove(n, { force: o.force ?? false });
          process.stdout.write(`${n}\n`);
        } catch (err) {
          process.stderr.write(`Error response from daemon: ${errorMessage(err)}\n`);
          process.exitCode = 1;
        }
      }
    });

  volume.command('prune')
    .description('Remove unused local volumes (anonymous ones, or all with -a)')
    .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--filter <filter>', 'Provide filter values (label=KEY[=VALUE]) (repeatable)', collect)
    .action(async (o: { all?: boolean; force?: boolean; filter?: string[] }, cmd: Command) => {
      const store = await openVolumes(cmd);
      if (!o.force) {
        if (!process.stdin.isTTY) throw new UserError('volume prune needs confirmation', 1, 'run it with --force (-f) when not on a terminal');
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const answer = await rl.question(`WARNING! This will remove ${o.all ? 'all local volumes' : 'anonymous local volumes'} not used by at least one container.\nAre you sure you want to continue? [y/N] `);
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) return;
      }
      const r = await store.prune({ all: o.all ?? false, ...(parseFilters(o.filter).labels ? { labels: parseFilters(o.filter).labels } : {}) });
      if (r.removed.length) process.stdout.write(`Deleted Volumes:\n${r.removed.join('\n')}\n\n`);
      process.stdout.write(`Total reclaimed space: ${humanSize(r.bytes)}\n`);
    });
}
