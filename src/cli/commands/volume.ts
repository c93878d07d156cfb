import type { Command } from 'commander';
import { UserError, errorMessage } from '../../util/errors.js';
import type { VolumeSummary } from '../../engine/types.js';
import { humanSize, renderTemplate, table } from '../present/docker.js';
import { addLabelFilter, parseKeyValues, splitFilter } from '../container/flags.js';
import { collect } from '../flags.js';
import { confirm } from '../terminal.js';
import { objectEngine } from '../objects.js';

/** `tscompose volume ...`: the native engine's named volumes, as `docker volume ...`, through the Engine. */

interface VolumeFilter { labels?: Record<string, string | undefined>; dangling?: boolean; name?: string; driver?: string }

function parseFilters(filters: string[] = []): VolumeFilter {
  const out: VolumeFilter = {};
  for (const f of filters) {
    const [key, value] = splitFilter(f);
    if (key === 'label') out.labels = addLabelFilter(out.labels, value);
    else if (key === 'dangling') out.dangling = ['true', '1'].includes(value);
    else if (key === 'name') out.name = value;
    else if (key === 'driver') out.driver = value;
    else throw new UserError(`invalid filter '${key}'`, 1, 'use label, dangling, name or driver');
  }
  return out;
}

/** The row docker prints for `volume ls --format json`, and its templates see. */
function row(v: VolumeSummary) {
  return { Driver: v.driver, Labels: v.labels, Mountpoint: v.mountpoint, Name: v.name, Scope: 'local' };
}

function render(vols: VolumeSummary[], o: { quiet?: boolean; format?: string }): string {
  if (o.quiet) return vols.map((v) => `${v.name}\n`).join('');
  if (o.format === 'json') return vols.map((v) => `${JSON.stringify(row(v))}\n`).join('');
  if (o.format && o.format !== 'table') return vols.map((v) => `${renderTemplate(o.format!.replace(/^table\s+/, ''), row(v))}\n`).join('');
  return table([['DRIVER', 'VOLUME NAME'], ...vols.map((v) => [v.driver, v.name])]);
}

export function register(program: Command): void {
  const volume = program.command('volume').description('Manage volumes of the native engine');
  const engineOf = (cmd: Command) => objectEngine(cmd, 'volume');

  volume.command('create')
    .description('Create a volume')
    .argument('[volume]', 'volume name (default: a random one)')
    .option('-d, --driver <string>', 'Specify volume driver name', 'local')
    .option('--label <list>', 'Set metadata for a volume (repeatable)', collect)
    .option('-o, --opt <map>', 'Set driver specific options: type=none, o=bind, device=/host/dir (repeatable)', collect)
    .action(async (name: string | undefined, o: { driver: string; label?: string[]; opt?: string[] }, cmd: Command) => {
      const engine = await engineOf(cmd);
      const v = await engine.volumes.create({
        ...(name ? { name } : {}),
        driver: o.driver,
        labels: parseKeyValues(o.label, '--label'),
        driverOpts: parseKeyValues(o.opt, '--opt'),
      });
      process.stdout.write(`${v.name}\n`);
    });

  volume.command('ls').alias('list')
    .description('List volumes')
    .option('-q, --quiet', 'Only display volume names')
    .option('-f, --filter <filter>', 'Provide filter values (label=, dangling=, name=, driver=) (repeatable)', collect)
    .option('--format <string>', "Format output using a template ('table', 'json' or a Go-like template)")
    .action(async (o: { quiet?: boolean; filter?: string[]; format?: string }, cmd: Command) => {
      const engine = await engineOf(cmd);
      const f = parseFilters(o.filter);
      const vols = (await engine.volumes.list({ ...(f.labels ? { labels: f.labels } : {}), ...(f.dangling !== undefined ? { dangling: f.dangling } : {}) }))
        .filter((v) => (f.name === undefined || v.name.includes(f.name)) && (f.driver === undefined || v.driver === f.driver));
      process.stdout.write(render(vols, o));
    });

  volume.command('inspect')
    .description('Display detailed information on one or more volumes')
    .argument('<volume...>')
    .option('-f, --format <string>', 'Format output using a Go-like template')
    .action(async (names: string[], o: { format?: string }, cmd: Command) => {
      const engine = await engineOf(cmd);
      const found: unknown[] = [];
      for (const n of names) {
        const v = await engine.volumes.inspectRaw(n);
        if (v) found.push(v);
        else {
          process.stderr.write(`Error: No such volume: ${n}\n`);
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
      const engine = await engineOf(cmd);
      for (const n of names) {
        try {
          await engine.volumes.remove(n, o.force ?? false);
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
      const engine = await engineOf(cmd);
      if (!o.force) {
        if (!process.stdin.isTTY) throw new UserError('volume prune needs confirmation', 1, 'run it with --force (-f) when not on a terminal');
        const what = o.all ? 'all local volumes' : 'anonymous local volumes';
        if (!(await confirm(`WARNING! This will remove ${what} not used by at least one container.\nAre you sure you want to continue? [y/N] `, process.stdout))) return;
      }
      const labels = parseFilters(o.filter).labels;
      const r = await engine.volumes.prune({ all: o.all ?? false, ...(labels ? { labels } : {}) });
      if (r.removed.length) process.stdout.write(`Deleted Volumes:\n${r.removed.join('\n')}\n\n`);
      process.stdout.write(`Total reclaimed space: ${humanSize(r.reclaimedBytes)}\n`);
    });
}
