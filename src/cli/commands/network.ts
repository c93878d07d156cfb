import { Command, Option } from 'commander';
import { UserError, errorMessage } from '../../util/errors.js';
import type { IpamPool } from '../../engine/types.js';
import { collect } from '../flags.js';
import { confirm } from '../terminal.js';
import { objectEngine } from '../objects.js';

/**
 * `tscompose network ...`, as `docker network ...`: create, ls, inspect, rm,
 * connect, disconnect, prune. The native engine's networks, through the
 * Engine (the route the compose verbs take).
 */

function keyValues(items: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UserError(`invalid ${what} "${item}"`, 1, `write it as KEY=VALUE`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** `--filter label=k[=v]` and `name=x`, Docker's syntax. */
function parseFilters(items: string[] | undefined): { labels: Record<string, string | undefined>; names: string[] } {
  const labels: Record<string, string | undefined> = {};
  const names: string[] = [];
  for (const f of items ?? []) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? '' : f.slice(eq + 1);
    if (key === 'label') {
      const e2 = value.indexOf('=');
      if (e2 < 0) labels[value] = undefined;
      else labels[value.slice(0, e2)] = value.slice(e2 + 1);
    } else if (key === 'name') {
      names.push(value);
    } else {
      throw new UserError(`invalid filter "${f}"`, 1, 'supported filters: label=KEY, label=KEY=VALUE, name=NAME');
    }
  }
  return { labels, names };
}

/** The subset of Go templates people pass to `inspect -f`: `{{.A.B}}` and `{{json .A}}`. */
export function renderTemplate(template: string, value: unknown): string {
  return template.replace(/\{\{\s*(json\s+)?\.([\w.]*)\s*\}\}/g, (_m, json: string | undefined, path: string) => {
    let v: unknown = value;
    for (const key of path.split('.').filter(Boolean)) v = (v as Record<string, unknown> | undefined)?.[key];
    if (json) return JSON.stringify(v ?? null);
    if (v === undefined || v === null) return '<no value>';
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

export function register(program: Command): void {
  const network = program.command('network').description('Manage networks');
  const engineOf = (cmd: Command) => objectEngine(cmd, 'network');

  network
    .command('create')
    .description('Create a network')
    .argument('<network>', 'network name')
    .addOption(new Option('-d, --driver <driver>', 'driver to manage the network').default('bridge'))
    .option('--subnet <cidr>', 'subnet in CIDR format (default: a free one from the default pools)')
    .option('--gateway <ip>', 'IPv4 gateway of the subnet (default: its first address)')
    .option('--ip-range <cidr>', 'allocate container addresses from this sub-range')
    .option('--aux-address <name=ip>', 'an address the IPAM must not hand out (repeatable)', collect)
    .option('--internal', 'restrict external access to the network')
    .option('--attachable', 'enable manual container attachment')
    .option('--ipv6', 'enable IPv6 networking')
    .option('--label <key=value>', 'set metadata on the network (repeatable)', collect)
    .option('-o, --opt <key=value>', 'driver specific options (repeatable)', collect)
    .action(async (name: string, o: Record<string, unknown>, cmd: Command) => {
      const engine = await engineOf(cmd);
      const aux = keyValues(o.auxAddress as string[] | undefined, 'auxiliary address');
      const pool: IpamPool = {
        ...(o.subnet ? { subnet: o.subnet as string } : {}),
        ...(o.gateway ? { gateway: o.gateway as string } : {}),
        ...(o.ipRange ? { ipRange: o.ipRange as string } : {}),
        ...(Object.keys(aux).length ? { auxAddresses: aux } : {}),
      };
      const { id } = await engine.networks.create({
        name,
        driver: o.driver as string,
        ...(Object.keys(pool).length ? { ipam: { config: [pool] } } : {}),
        internal: Boolean(o.internal),
        attachable: Boolean(o.attachable),
        enableIpv6: Boolean(o.ipv6),
        labels: keyValues(o.label as string[] | undefined, 'label'),
        driverOpts: keyValues(o.opt as string[] | undefined, 'driver option'),
      });
      process.stdout.write(`${id}\n`);
    });

  network
    .command('ls')
    .alias('list')
    .description('List networks')
    .option('-q, --quiet', 'only display network IDs')
    .option('--no-trunc', 'do not truncate the output')
    .option('-f, --filter <filter>', 'filter output (label=KEY[=VALUE], name=NAME; repeatable)', collect)
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (o: { quiet?: boolean; trunc: boolean; filter?: string[]; format: string }, cmd: Command) => {
      const engine = await engineOf(cmd);
      const f = parseFilters(o.filter);
      const rows = await engine.networks.list({ labels: f.labels, ...(f.names.length ? { names: f.names } : {}) });
      const id = (x: string) => (o.trunc ? x.slice(0, 12) : x);
      if (o.quiet) {
        for (const n of rows) process.stdout.write(`${id(n.id)}\n`);
      } else if (o.format === 'json') {
        for (const n of rows) {
          const labels = Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(',');
          process.stdout.write(JSON.stringify({ ID: id(n.id), Name: n.name, Driver: n.driver, Scope: 'local', Internal: String(n.internal), IPv6: 'false', Labels: labels, CreatedAt: new Date(n.created).toISOString() }) + '\n');
        }
      } else {
        const table = [['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], ...rows.map((n) => [id(n.id), n.name, n.driver, 'local'])];
        const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
        for (const r of table) process.stdout.write(r.map((cell, c) => (c < r.length - 1 ? cell.padEnd(widths[c]! + 3) : cell)).join('') + '\n');
      }
    });

  network
    .command('inspect')
    .description('Display detailed information on one or more networks')
    .argument('<network...>', 'network names or ids')
    .option('-f, --format <template>', 'format the output with a template ({{.Field}}, {{json .Field}})')
    .action(async (refs: string[], o: { format?: string }, cmd: Command) => {
      const engine = await engineOf(cmd);
      const found: unknown[] = [];
      const errors: string[] = [];
      for (const ref of refs) {
        try {
          const n = await engine.networks.inspectRaw(ref);
          if (n) found.push(n);
          else errors.push(`No such network: ${ref}`);
        } catch (err) {
          errors.push(errorMessage(err));
        }
      }
      if (o.format) for (const n of found) process.stdout.write(renderTemplate(o.format, n) + '\n');
      else process.stdout.write(JSON.stringify(found, null, 4) + '\n');
      if (errors.length) throw new UserError(errors.join('\n'));
    });

  network
    .command('rm')
    .alias('remove')
    .description('Remove one or more networks')
    .argument('<network...>', 'network names or ids')
    .action(async (refs: string[], _o: unknown, cmd: Command) => {
      const engine = await engineOf(cmd);
      const errors: string[] = [];
      for (const ref of refs) {
        try {
          await engine.networks.remove(ref);
          process.stdout.write(`${ref}\n`);
        } catch (err) {
          if (!(err instanceof UserError)) throw err;
          errors.push(err.hint ? `${err.message}\n${err.hint}` : err.message);
        }
      }
      if (errors.length) throw new UserError(errors.join('\n'));
    });

  network
    .command('connect')
    .description('Connect a container to a network')
    .argument('<network>', 'network name or id')
    .argument('<container>', 'container name or id')
    .option('--alias <alias>', 'add a network-scoped alias for the container (repeatable)', collect)
    .option('--ip <address>', 'IPv4 address (e.g. 172.30.100.104)')
    .action(async (network: string, container: string, o: { alias?: string[]; ip?: string }, cmd: Command) => {
      const engine = await engineOf(cmd);
      await engine.networks.connect(network, container, {
        ...(o.alias ? { aliases: o.alias } : {}),
        ...(o.ip ? { ipv4Address: o.ip } : {}),
      });
    });

  network
    .command('disconnect')
    .description('Disconnect a container from a network')
    .argument('<network>', 'network name or id')
    .argument('<container>', 'container name or id')
    .option('-f, --force', 'force the container to disconnect from a network')
    .action(async (network: string, container: string, _o: unknown, cmd: Command) => {
      await (await engineOf(cmd)).networks.disconnect(network, container);
    });

  network
    .command('prune')
    .description('Remove all unused networks')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--filter <filter>', 'provide filter values (label=KEY[=VALUE]; repeatable)', collect)
    .action(async (o: { force?: boolean; filter?: string[] }, cmd: Command) => {
      const engine = await engineOf(cmd);
      if (!o.force) {
        if (!process.stdin.isTTY) throw new UserError('network prune needs confirmation', 1, 'run it with --force (-f) when not on a terminal');
        if (!(await confirm('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ', process.stdout))) return;
      }
      const removed = await engine.networks.prune({ labels: parseFilters(o.filter).labels });
      if (removed.length) process.stdout.write(`Deleted Networks:\n${removed.join('\n')}\n`);
    });
}
