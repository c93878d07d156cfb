import { InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { readDotEnv } from '../project/discovery.js';

/** Flag parsing shared by the commands: repeatable values, numbers, times. */

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** An option spelled `--no-x <value>` that carries values instead of negating `--x`. */
export function valueOption(flags: string, description: string): Option {
  const o = new Option(flags, description).argParser(collect);
  o.negate = false;
  return o;
}

/** `--scale web=3` (repeatable) → {web: 3}. */
export function parseScale(values: string[] | undefined): Record<string, number> | undefined {
  if (!values?.length) return undefined;
  const out: Record<string, number> = {};
  for (const v of values) {
    const m = /^([^=]+)=(\d+)$/.exec(v);
    if (!m) throw new UserError(`invalid --scale value "${v}"`, 1, 'write it as SERVICE=NUMBER, e.g. --scale web=3');
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function parseSeconds(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UserError(`invalid ${flag} value "${v}"`, 1, `give a number of seconds, e.g. ${flag} 10`);
  return n;
}

/** A time as Docker's `--since` takes it: RFC 3339, a unix timestamp, or a duration ago ("42m", "1h30m"); unix seconds. */
export function parseSinceTime(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const rel = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(v);
  if (rel && v !== '') return Date.now() / 1000 - (Number(rel[1] ?? 0) * 3600 + Number(rel[2] ?? 0) * 60 + Number(rel[3] ?? 0));
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UserError(`invalid ${flag} value "${v}"`, 1, 'give a timestamp (2013-01-02T13:23:37Z), unix seconds, or a duration like 42m');
  return t / 1000;
}

/** `-e KEY=VAL` / `-e KEY` (value from our environment, left out when unset), as docker takes them. */
export function parseEnvFlags(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq >= 0) out[v.slice(0, eq)] = v.slice(eq + 1);
    else if (process.env[v] !== undefined) out[v] = process.env[v]!;
  }
  return out;
}

/** `KEY=VALUE` flags (repeatable) as a record; with `fromEnv`, a bare KEY takes its value from our environment (docker's --build-arg). */
export function parseKeyValues(list: string[] | undefined, flag: string, fromEnv: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq === 0) throw new UserError(`invalid ${flag} "${item}"`, 1, `Write ${flag} KEY=VALUE`);
    if (eq < 0) {
      const v = fromEnv ? process.env[item] : '';
      if (v !== undefined) out[item] = v;
      continue;
    }
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** A boolean from the environment as Go's strconv.ParseBool reads it (what Compose uses for COMPOSE_* switches); anything else is false. */
export function envBool(value: string | undefined): boolean {
  return value !== undefined && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value);
}

/**
 * `run -e` and `--env-from-file` as Compose merges them: `-e` wins, then the
 * files in order, a key taken from the first file that sets it; a file's
 * `${VAR}` sees what is set so far (Compose's run.go getEnvironment).
 */
export function runEnvironment(flags: string[] | undefined, files: string[] | undefined): Record<string, string> {
  const env = parseEnvFlags(flags);
  for (const file of files ?? []) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UserError(`cannot read --env-from-file ${file}: ${(err as Error).message}`, 1, 'give the path of an env file (KEY=VALUE lines)');
    }
    const vars = readDotEnv(text, file, (k) => env[k]);
    for (const [k, v] of Object.entries(vars)) if (!(k in env)) env[k] = v;
  }
  return env;
}

/** `--index N`: a replica number, from 1. */
export function replicaIndex(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('give a replica number, starting at 1.');
  return n;
}

/** A boolean flag that also takes Compose's `--flag=false` / `--flag=true` spelling. */
export function booleanValue(value: string | undefined): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgumentError('give true or false.');
}
