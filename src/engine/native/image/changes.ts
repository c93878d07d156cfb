import { UserError } from '../../../util/errors.js';
import type { OciImageConfig } from './oci.js';

/**
 * `docker import --change` / `docker commit --change`: the Dockerfile
 * instructions that only touch the image config (CMD, ENTRYPOINT, ENV,
 * EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR), applied to a
 * config. One instruction per string, as the flag takes them.
 */

const SUPPORTED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

export function applyChanges(config: OciImageConfig, changes: readonly string[]): OciImageConfig {
  const out: OciImageConfig = { ...config };
  for (const change of changes) {
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(change);
    if (!m || m[1] === undefined) continue;
    const instr = m[1].toUpperCase();
    const rest = (m[2] ?? '').trim();
    const bad = (why: string) => new UserError(`--change ${JSON.stringify(change)}: ${why}`, 1, `Supported instructions: ${SUPPORTED.join(', ')}`);
    switch (instr) {
      case 'CMD':
        out.Cmd = commandForm(rest, bad);
        break;
      case 'ENTRYPOINT':
        out.Entrypoint = commandForm(rest, bad);
        break;
      case 'ENV':
        out.Env = mergeEnv(out.Env ?? [], keyValues(rest, bad, 'ENV'));
        break;
      case 'LABEL':
        out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(keyValues(rest, bad, 'LABEL')) };
        break;
      case 'EXPOSE': {
        const ports = { ...(out.ExposedPorts ?? {}) };
        for (const p of rest.split(/\s+/).filter(Boolean)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw bad(`"${p}" is not a port (PORT[/PROTO])`);
          ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        out.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(out.Volumes ?? {}) };
        const list = rest.startsWith('[') ? jsonArray(rest, bad) : rest.split(/\s+/).filter(Boolean);
        for (const v of list) vols[v] = {};
        out.Volumes = vols;
        break;
      }
      case 'USER':
        if (!rest) throw bad('USER needs a user');
        out.User = rest;
        break;
      case 'WORKDIR':
        if (!rest) throw bad('WORKDIR needs a path');
        out.WorkingDir = rest.startsWith('/') ? rest : `${out.WorkingDir || '/'}${(out.WorkingDir || '/').endsWith('/') ? '' : '/'}${rest}`;
        break;
      case 'STOPSIGNAL':
        if (!rest) throw bad('STOPSIGNAL needs a signal');
        out.StopSignal = rest;
        break;
      case 'ONBUILD':
        if (!rest) throw bad('ONBUILD needs an instruction');
        out.OnBuild = [...(out.OnBuild ?? []), rest];
        break;
      default:
        throw bad(`${instr} cannot be applied to an image config`);
    }
  }
  return out;
}

function jsonArray(text: string, bad: (why: string) => Error): string[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad('not a JSON array of strings');
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad('not a JSON array of strings');
  return v;
}

/** Exec form (a JSON array) as is; shell form runs under /bin/sh -c, as Dockerfiles do. */
function commandForm(rest: string, bad: (why: string) => Error): string[] {
  if (rest.startsWith('[')) {
    try {
      return jsonArray(rest, bad);
    } catch {
      // Docker falls back to the shell form when the JSON does not parse.
    }
  }
  if (!rest) throw bad('needs a command');
  return ['/bin/sh', '-c', rest];
}

/** `K=V K2="v 2"` or the legacy `K V...` form. */
function keyValues(rest: string, bad: (why: string) => Error, instr: string): [string, string][] {
  const words = splitWords(rest);
  if (words.length === 0) throw bad(`${instr} needs KEY=VALUE`);
  if (!words[0]!.includes('=')) {
    const sp = rest.search(/\s/);
    if (sp < 0) throw bad(`${instr} ${rest} has no value`);
    return [[rest.slice(0, sp), rest.slice(sp).trim()]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw bad(`"${w}" is not KEY=VALUE`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Splits on unquoted whitespace and removes the quotes (and backslash escapes). */
function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let any = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length && quote !== "'") {
      cur += s[++i];
      any = true;
    } else if (quote) {
      if (c === quote) quote = null;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      any = true;
    } else if (/\s/.test(c)) {
      if (any) out.push(cur);
      cur = '';
      any = false;
    } else {
      cur += c;
      any = true;
    }
  }
  if (any) out.push(cur);
  return out;
}

function mergeEnv(env: string[], pairs: [string, string][]): string[] {
  const out = [...env];
  for (const [k, v] of pairs) {
    const i = out.findIndex((e) => e === k || e.startsWith(`${k}=`));
    if (i >= 0) out[i] = `${k}=${v}`;
    else out.push(`${k}=${v}`);
  }
  return out;
}
