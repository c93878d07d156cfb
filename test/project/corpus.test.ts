import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../support/cache.js';
import { CORPUS } from '../support/corpus.js';

/**
 * Acceptance 1: `tscompose config`, the built CLI run as a user runs it from
 * each corpus file's folder, exits 0 and states what the file means: the
 * images, environment, published ports, volumes and networks. Expectations
 * come from the raw file itself (read here with a plain YAML parse and a
 * deliberately naive `${VAR}` substitution from its .env), not from the
 * loader under test.
 */

const CLI = join(repoRoot, 'bin', 'tscompose');
const dirs = readdirSync(CORPUS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

type Obj = Record<string, unknown>;

function config(dir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  return spawnSync(process.execPath, [CLI, 'config', ...args], { cwd: dir, encoding: 'utf8', env });
}

/** The corpus' .env files: KEY=VALUE lines, `#` comments. */
function dotEnv(dir: string): Record<string, string> {
  const f = join(dir, '.env');
  if (!existsSync(f)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.replace(/\s+#.*$/, '').trim();
  }
  return out;
}

function naive(value: unknown, env: Record<string, string>): string {
  return String(value).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, k: string) => env[k] ?? '');
}

const asObj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Raw `environment` (list or map) to KEY -> value (undefined when only the key is given). */
function rawEnvironment(v: unknown, env: Record<string, string>): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = naive(item, env);
      const eq = s.indexOf('=');
      out.set(eq < 0 ? s : s.slice(0, eq), eq < 0 ? undefined : s.slice(eq + 1));
    }
  } else {
    for (const [k, val] of Object.entries(asObj(v))) out.set(k, val === null ? undefined : naive(val, env));
  }
  return out;
}

/** Raw short port "[ip:][host:]container[/proto]" or long form to "published->target/proto". */
function rawPort(p: unknown): string {
  if (p && typeof p === 'object') {
    const o = p as Obj;
    return `${o.published ?? ''}->${o.target}/${o.protocol ?? 'tcp'}`;
  }
  const [ports, proto = 'tcp'] = String(p).split('/');
  const parts = ports!.split(':');
  const container = parts.at(-1)!;
  const host = parts.length >= 2 ? parts.at(-2)! : '';
  return `${host}->${container}/${proto}`;
}

describe('tscompose config on the awesome-compose corpus', () => {
  it('covers the 39 files', () => {
    expect(dirs).toHaveLength(39);
  });

  it.each(dirs)('%s', (name) => {
    const dir = join(CORPUS, name);
    const r = config(dir);
    expect(r.status, r.stderr).toBe(0);
    const out = parse(r.stdout) as Obj;
    const file = ['compose.yaml', 'compose.yml'].map((f) => join(dir, f)).find(existsSync)!;
    const raw = parse(readFileSync(file, 'utf8'), { merge: true }) as Obj;
    const env = dotEnv(dir);
    const project = String(raw.name ?? name.toLowerCase().replace(/[^a-z0-9_-]/g, ''));
    expect(out.name).toBe(project);

    const outServices = asObj(out.services);
    const rawServices = asObj(raw.services);
    expect(Object.keys(outServices).sort()).toEqual(Object.keys(rawServices).sort());
    const usedVolumes = new Set<string>();
    const usedNetworks = new Set<string>();

    for (const [svcName, rawSvcValue] of Object.entries(rawServices)) {
      const rawSvc = asObj(rawSvcValue);
      const svc = asObj(outServices[svcName]);
      const what = `${name}: service ${svcName}`;

      // Image, or the build context made absolute.
      if (rawSvc.image !== undefined) expect(svc.image, what).toBe(naive(rawSvc.image, env));
      if (rawSvc.build !== undefined) {
        const context = typeof rawSvc.build === 'string' ? rawSvc.build : (asObj(rawSvc.build).context as string | undefined) ?? '.';
        expect(asObj(svc.build).context, what).toBe(resolve(dir, context));
      }

      // Every environment entry, with its value.
      const outEnv = asObj(svc.environment);
      for (const [k, v] of rawEnvironment(rawSvc.environment, env)) {
        expect(Object.keys(outEnv), `${what} environment`).toContain(k);
        if (v !== undefined) expect(outEnv[k], `${what} environment ${k}`).toBe(v);
      }

      // Every ports entry as a published/target pair, in the long form.
      const outPorts = asList(svc.ports).map((p) => {
        const o = asObj(p);
        expect(o.mode, what).toBe('ingress');
        return `${o.published ?? ''}->${o.target}/${o.protocol}`;
      });
      expect(outPorts.sort(), `${what} ports`).toEqual(asList(rawSvc.ports).map(rawPort).sort());

      // Every volume: named volumes by name, host paths made absolute, targets as written.
      const outVolumes = asList(svc.volumes).map(asObj);
      expect(outVolumes, `${what} volumes`).toHaveLength(asList(rawSvc.volumes).length);
      asList(rawSvc.volumes).forEach((rv, i) => {
        const o = outVolumes[i]!;
        if (typeof rv !== 'string') {
          expect(o.target, what).toBe(asObj(rv).target);
          return;
        }
        const parts = naive(rv, env).split(':');
        const [source, target] = parts.length === 1 ? [undefined, parts[0]!] : [parts[0]!, parts[1]!];
        expect(o.target, `${what} volume ${rv}`).toBe(target.length > 1 ? target.replace(/\/$/, '') : target);
        if (source === undefined) {
          expect(o.type, what).toBe('volume');
        } else if (/^[./~]/.test(source)) {
          const abs = source.startsWith('~/') ? join(homedir(), source.slice(2)) : source.startsWith('/') ? source : resolve(dir, source);
          expect(o, `${what} volume ${rv}`).toMatchObject({ type: 'bind', source: abs });
        } else {
          expect(o, `${what} volume ${rv}`).toMatchObject({ type: 'volume', source });
          usedVolumes.add(source);
        }
        if (parts[2] === 'ro') expect(o.read_only, what).toBe(true);
      });

      // Networks: as declared, or the default network.
      const rawNets = Array.isArray(rawSvc.networks) ? (rawSvc.networks as string[]) : Object.keys(asObj(rawSvc.networks));
      const expectedNets = rawSvc.network_mode !== undefined ? [] : rawNets.length ? rawNets : ['default'];
      expect(Object.keys(asObj(svc.networks)).sort(), `${what} networks`).toEqual([...expectedNets].sort());
      for (const n of expectedNets) usedNetworks.add(n);
      if (rawSvc.network_mode !== undefined) expect(svc.network_mode, what).toBe(rawSvc.network_mode);
    }

    // Top-level volumes and networks in use, with their engine names.
    const outVols = asObj(out.volumes);
    for (const v of usedVolumes) {
      const rawV = asObj(asObj(raw.volumes)[v]);
      expect(asObj(outVols[v]).name, `${name}: volume ${v}`).toBe(rawV.name ?? (rawV.external ? v : `${project}_${v}`));
    }
    const outNets = asObj(out.networks);
    expect(Object.keys(outNets).sort(), `${name}: networks`).toEqual([...usedNetworks].sort());
    for (const n of usedNetworks) {
      const rawN = asObj(asObj(raw.networks)[n]);
      expect(asObj(outNets[n]).name, `${name}: network ${n}`).toBe(rawN.name ?? (rawN.external ? n : `${project}_${n}`));
    }
  });

  it('--format json prints the same project as the YAML', () => {
    const dir = join(CORPUS, 'wordpress-mysql');
    const yaml = parse(config(dir).stdout) as Obj;
    const json = JSON.parse(config(dir, '--format', 'json').stdout) as Obj;
    // JSON always carries command and entrypoint (null when unset), as Compose's JSON does.
    const services = asObj(json.services);
    for (const s of Object.values(services)) {
      for (const k of ['command', 'entrypoint']) if (asObj(s)[k] === null) delete asObj(s)[k];
    }
    expect(json).toEqual(yaml);
  });

  it('--services, --volumes, --networks, --images, --profiles and -q', () => {
    const dir = join(CORPUS, 'react-express-mysql');
    expect(config(dir, '--services').stdout).toBe('db\nbackend\nfrontend\n'); // what a service needs comes first
    expect(config(dir, '--volumes').stdout).toBe('back-notused\ndb-data\n');
    expect(config(dir, '--networks').stdout).toBe('private\npublic\n');
    expect(config(dir, '--images').stdout).toBe('mariadb:10.6.4-focal\nreact-express-mysql-backend\nreact-express-mysql-frontend\n');
    expect(config(dir, '--profiles').stdout).toBe('');
    const quiet = config(dir, '-q');
    expect([quiet.status, quiet.stdout, quiet.stderr]).toEqual([0, '', '']);
  });
});
