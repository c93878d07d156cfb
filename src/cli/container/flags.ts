import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UserError } from '../../util/errors.js';
import type { Ulimit } from '../../engine/types.js';

/**
 * docker run/create flag syntax: byte sizes, -e and --env-file, -v, --mount,
 * --tmpfs, --ulimit, --sysctl. Every error names the flag and the value at
 * fault. create-flags.ts makes the Engine's request of them.
 */

/** A mount as the flags give it (create-flags.ts turns it into the Engine's MountRequest). */
export interface ContainerMount {
  type: 'bind' | 'volume' | 'tmpfs';
  /** bind: host path; volume: volume name (missing: a new anonymous volume). */
  source?: string;
  target: string;
  readOnly?: boolean;
  options?: { createHostPath?: boolean; noCopy?: boolean; tmpfsSize?: number; tmpfsMode?: number };
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Docker's RAMInBytes: "512m", "1g", "100k", "1024" (binary units, an optional trailing "b"). */
export function parseBytes(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:b|ib)?$/i.exec(value.trim());
  if (!m) throw new UserError(`invalid value "${value}" for ${flag}: expected a size such as 512m or 1g`);
  return Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

export function parseInteger(value: string, flag: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new UserError(`invalid value "${value}" for ${flag}: expected an integer`);
  return Number(value);
}

export function parseKeyValues(values: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0) {
      if (flag === '--label' && v && !v.startsWith('=')) { out[v] = ''; continue; }
      throw new UserError(`invalid value "${v}" for ${flag}: expected KEY=VALUE`);
    }
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** -e KEY=VALUE, -e KEY (taken from this environment when set), and --env-file lines of the same forms. */
export function parseEnv(env: string[] | undefined, envFiles: string[] | undefined): string[] {
  const out: string[] = [];
  const add = (entry: string, where: string) => {
    if (entry.startsWith('=')) throw new UserError(`invalid environment variable "${entry}" in ${where}`, 1, 'use KEY=VALUE');
    if (entry.includes('=')) out.push(entry);
    else if (process.env[entry] !== undefined) out.push(`${entry}=${process.env[entry]}`);
  };
  for (const file of envFiles ?? []) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UserError(`cannot read env file ${file}: ${(err as Error).message}`);
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const l = line.replace(/^\s+/, '');
      if (l === '' || l.startsWith('#')) return;
      add(l, `${file}:${i + 1}`);
    });
  }
  for (const e of env ?? []) add(e, '-e');
  return out;
}

function isHostPath(src: string): boolean {
  return isAbsolute(src) || src.startsWith('./') || src.startsWith('../') || src === '.' || src === '..' || src.startsWith('~');
}

/** -v [SRC:]DST[:OPTS]: SRC a host path (absolute or ./relative) for a bind, a name for a volume, none for an anonymous volume. */
export function parseVolumeFlag(value: string): ContainerMount {
  const parts = value.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) {
    throw new UserError(`invalid volume specification: '${value}'`, 1, 'use SRC:DST[:ro], NAME:DST[:ro] or DST');
  }
  let src: string | undefined;
  let dst: string;
  let opts = '';
  if (parts.length === 1) dst = parts[0]!;
  else if (parts.length === 2 && parts[1]!.startsWith('/')) [src, dst] = parts as [string, string];
  else if (parts.length === 2) [dst, opts] = parts as [string, string];
  else [src, dst, opts] = parts as [string, string, string];
  if (!dst.startsWith('/')) throw new UserError(`invalid volume specification: '${value}': mount path must be absolute`);
  const flags = opts.split(',').filter(Boolean);
  for (const f of flags) {
    if (!['ro', 'rw', 'z', 'Z', 'nocopy', 'copy', 'rprivate', 'private', 'rslave', 'slave', 'rshared', 'shared', 'consistent', 'cached', 'delegated'].includes(f)) {
      throw new UserError(`invalid volume specification: '${value}': unknown option "${f}"`);
    }
  }
  const readOnly = flags.includes('ro');
  if (src !== undefined && isHostPath(src)) {
    const path = src.startsWith('~') ? src.replace(/^~/, process.env.HOME ?? '/root') : resolve(src);
    return { type: 'bind', source: path, target: dst, readOnly, options: { createHostPath: true } };
  }
  return { type: 'volume', source: src, target: dst, readOnly, options: { noCopy: flags.includes('nocopy') } };
}

/** --mount type=bind|volume|tmpfs,source=...,target=...,readonly,volume-nocopy,tmpfs-size=...,tmpfs-mode=... */
export function parseMountFlag(value: string): ContainerMount {
  const kv: Record<string, string> = {};
  for (const field of value.split(',')) {
    const eq = field.indexOf('=');
    const k = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    kv[k] = eq < 0 ? 'true' : field.slice(eq + 1);
  }
  const type = (kv.type ?? 'volume') as ContainerMount['type'];
  if (!['bind', 'volume', 'tmpfs'].includes(type)) throw new UserError(`invalid --mount "${value}": type must be bind, volume or tmpfs`);
  const target = kv.target ?? kv.dst ?? kv.destination;
  if (!target) throw new UserError(`invalid --mount "${value}": target is required`, 1, 'add target=/path/in/container');
  const source = kv.source ?? kv.src;
  const readOnly = ['true', '1'].includes(kv.readonly ?? kv.ro ?? 'false');
  if (type === 'bind' && !source) throw new UserError(`invalid --mount "${value}": a bind mount needs source=/host/path`);
  return {
    type,
    ...(source !== undefined ? { source: type === 'bind' ? resolve(source) : source } : {}),
    target,
    readOnly,
    options: {
      ...(kv['volume-nocopy'] === 'true' ? { noCopy: true } : {}),
      ...(kv['tmpfs-size'] ? { tmpfsSize: parseBytes(kv['tmpfs-size'], '--mount tmpfs-size') } : {}),
      ...(kv['tmpfs-mode'] ? { tmpfsMode: parseInt(kv['tmpfs-mode'], 8) } : {}),
    },
  };
}

/** --tmpfs /path[:size=64m,mode=1777,ro] */
export function parseTmpfsFlag(value: string): ContainerMount {
  const [target, opts = ''] = value.split(/:(.*)/s);
  const m: ContainerMount = { type: 'tmpfs', target: target!, options: {} };
  for (const o of opts.split(',').filter(Boolean)) {
    const [k, v = ''] = o.split('=');
    if (k === 'size') m.options!.tmpfsSize = parseBytes(v, '--tmpfs size');
    else if (k === 'mode') m.options!.tmpfsMode = parseInt(v, 8);
    else if (k === 'ro') m.readOnly = true;
    else if (!['rw', 'noexec', 'exec', 'nosuid', 'nodev', 'suid', 'dev'].includes(k!)) throw new UserError(`invalid --tmpfs option "${o}" in "${value}"`);
  }
  return m;
}

/** --ulimit nofile=1024[:2048] */
export function parseUlimit(value: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(value);
  if (!m) throw new UserError(`invalid --ulimit "${value}"`, 1, 'use NAME=SOFT[:HARD], e.g. nofile=1024:2048');
  return { name: m[1]!, soft: Number(m[2]), hard: Number(m[3] ?? m[2]) };
}

/** "1h30m", "45s", "10m" → ms; for --since relative times. */
export function parseDuration(value: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const m of value.matchAll(re)) {
    const n = Number(m[1]);
    total += n * (m[2] === 'h' ? 3600_000 : m[2] === 'm' ? 60_000 : m[2] === 's' ? 1000 : 1);
    consumed += m[0].length;
  }
  return consumed === value.length && consumed > 0 ? total : undefined;
}

/** --since/--until: an RFC 3339 time, a Unix timestamp, or a duration before now. */
export function parseTime(value: string, flag: string): number {
  const rel = parseDuration(value);
  if (rel !== undefined) return Date.now() - rel;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UserError(`invalid value "${value}" for ${flag}`, 1, 'give a time (2024-01-02T15:04:05Z), a Unix timestamp, or a duration such as 10m');
  return t;
}

/** A `--filter label=KEY[=VALUE]` value added to a label filter (KEY alone: the label must be there). */
export function addLabelFilter(labels: Record<string, string | undefined> | undefined, value: string): Record<string, string | undefined> {
  const i = value.indexOf('=');
  return { ...(labels ?? {}), ...(i < 0 ? { [value]: undefined } : { [value.slice(0, i)]: value.slice(i + 1) }) };
}

/** Splits `--filter KEY=VALUE` values, naming the bad one. */
export function splitFilter(f: string): [string, string] {
  const eq = f.indexOf('=');
  if (eq < 0) throw new UserError(`bad format of filter (expected name=value): ${f}`);
  return [f.slice(0, eq), f.slice(eq + 1)];
}
