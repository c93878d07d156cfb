import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UserError } from './errors.js';

/**
 * The host's programs the native engine runs, each with the Debian/Ubuntu
 * package that provides it and what it is for. A program missing from PATH
 * is named in one line with its package, before anything is made (the native
 * Engine checks its own set when it opens: `ENGINE_TOOLS`), or, for the
 * programs only some commands run, when `run` first fails to start one.
 */
export interface HostTool {
  package: string;
  for: string;
}

export const HOST_TOOLS: Readonly<Record<string, HostTool>> = {
  ip: { package: 'iproute2', for: "containers' network interfaces and bridges" },
  'iptables-save': { package: 'iptables', for: "networks' isolation, NAT and published ports" },
  'iptables-restore': { package: 'iptables', for: "networks' isolation, NAT and published ports" },
  mount: { package: 'mount', for: 'image layers (overlayfs)' },
  umount: { package: 'mount', for: 'image layers (overlayfs)' },
  tar: { package: 'tar', for: 'image layers' },
  setfattr: { package: 'attr', for: "layers' extended attributes" },
  getfattr: { package: 'attr', for: "the builder's layer diffs" },
  xz: { package: 'xz-utils', for: 'xz-compressed archives' },
  bzip2: { package: 'bzip2', for: 'bzip2-compressed archives' },
  debootstrap: { package: 'debootstrap', for: 'the Debian base image' },
  unshare: { package: 'util-linux', for: 'the Debian base image' },
  setpriv: { package: 'util-linux', for: 'the Debian base image' },
};

/** What the native Engine needs whatever it is asked to do: checked once it opens (src/engine/native/engine). */
export const ENGINE_TOOLS: readonly string[] = ['ip', 'iptables-save', 'iptables-restore', 'mount', 'umount', 'tar'];

/** The program's path as a spawn with this PATH would find it, or undefined. */
export function findTool(name: string, path = process.env.PATH ?? ''): string | undefined {
  if (name.includes('/')) return name;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Host programs missing from PATH, named with what they are for and their packages, in one line. */
export class MissingHostToolError extends UserError {
  constructor(readonly tools: readonly string[]) {
    const byPackage = new Map<string, string[]>();
    for (const t of tools) byPackage.set(HOST_TOOLS[t]?.package ?? t, [...(byPackage.get(HOST_TOOLS[t]?.package ?? t) ?? []), t]);
    const groups = [...byPackage.values()].map((ts) => `${ts.map((t) => `\`${t}\``).join(' and ')}${HOST_TOOLS[ts[0]!] ? ` (for ${HOST_TOOLS[ts[0]!]!.for})` : ''}`);
    const packages = [...byPackage.keys()];
    super(
      `tscompose needs ${andList(groups)}, which ${tools.length > 1 ? 'are' : 'is'} not on PATH: ` +
        `install the ${andList(packages)} package${packages.length > 1 ? 's' : ''} (apt-get install ${packages.join(' ')} on Debian or Ubuntu)`,
    );
    this.name = 'MissingHostToolError';
  }

  /** The Debian/Ubuntu packages that provide the missing programs. */
  get packages(): string[] {
    return [...new Set(this.tools.map((t) => HOST_TOOLS[t]?.package ?? t))];
  }
}

function andList(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}` : (items[0] ?? '');
}

/** Throws a MissingHostToolError naming every one of `tools` that is not on PATH. */
export function requireTools(tools: readonly string[]): void {
  const missing = tools.filter((t) => findTool(t) === undefined);
  if (missing.length) throw new MissingHostToolError(missing);
}

/** A spawn (with this PATH) that failed because a known host program is not on it, as that one line; anything else unchanged. */
export function missingToolError(cmd: string, err: unknown, path?: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT' && HOST_TOOLS[cmd] && findTool(cmd, path) === undefined) return new MissingHostToolError([cmd]);
  return err;
}
