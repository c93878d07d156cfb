import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { writeFileAtomic } from '../../../util/atomic.js';
import { UserError } from '../../../util/errors.js';

/**
 * Registry credentials in Docker's own file, ~/.docker/config.json (or
 * $DOCKER_CONFIG/config.json), so that `docker login` and `tscompose login`
 * share them: `auths` entries hold base64("user:password"), and a
 * `credsStore` or per-registry `credHelpers` entry names a
 * docker-credential-<helper> program that keeps them instead.
 */

export interface Credentials {
  username: string;
  password: string;
}

/** The key Docker Hub's credentials live under (the v1 index URL, for historical reasons). */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  [extra: string]: unknown;
}

interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [extra: string]: unknown;
}

export function dockerConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG || join(homedir(), '.docker');
  return join(dir, 'config.json');
}

/** `docker.io` and its aliases → Docker Hub's key; anything else → host[:port] without scheme or path. */
export function authKey(registry: string): string {
  const host = hostOf(registry);
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB_AUTH_KEY : host;
}

/** "https://host:5000/v1/" → "host:5000" (Docker's convertToHostname). */
function hostOf(key: string): string {
  let s = key.replace(/^[a-z]+:\/\//i, '');
  const slash = s.indexOf('/');
  if (slash >= 0) s = s.slice(0, slash);
  return s.toLowerCase();
}

function readConfig(path = dockerConfigPath()): DockerConfigFile {
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${path} is not valid JSON (${(err as Error).message})`, 1, 'Fix or remove the file, then log in again');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UserError(`${path} is not a JSON object`, 1, 'Fix or remove the file, then log in again');
  }
  return parsed as DockerConfigFile;
}

function decodeEntry(entry: AuthEntry, key: string, path: string): Credentials | undefined {
  if (entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) throw new UserError(`${path}: the auth of "${key}" is not base64 of user:password`, 1, `Log in again: tscompose login ${key}`);
    return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

/** The entry of `auths` for a registry, matching keys with or without scheme and path, as Docker does. */
function findEntry(auths: Record<string, AuthEntry>, registry: string): [string, AuthEntry] | undefined {
  const want = authKey(registry);
  if (auths[want]) return [want, auths[want]];
  for (const [k, v] of Object.entries(auths)) {
    const host = hostOf(k);
    if (host === hostOf(want) || (want === DOCKER_HUB_AUTH_KEY && DOCKER_HUB_ALIASES.has(host))) return [k, v];
  }
  return undefined;
}

function helperFor(cfg: DockerConfigFile, registry: string): string | undefined {
  const host = hostOf(authKey(registry));
  for (const [k, v] of Object.entries(cfg.credHelpers ?? {})) if (hostOf(k) === host) return v;
  return cfg.credsStore || undefined;
}

/** Credentials for a registry (`docker.io`, `localhost:5000`), or undefined to go anonymous. */
export async function loadCredentials(registry: string): Promise<Credentials | undefined> {
  const path = dockerConfigPath();
  const cfg = readConfig(path);
  const helper = helperFor(cfg, registry);
  if (helper) {
    const fromHelper = await credentialHelper(helper, 'get', authKey(registry));
    if (fromHelper) return fromHelper;
  }
  const found = findEntry(cfg.auths ?? {}, registry);
  return found ? decodeEntry(found[1], found[0], path) : undefined;
}

/** Records credentials the way `docker login` does (in the helper when one is configured). */
export async function storeCredentials(registry: string, creds: Credentials): Promise<string> {
  const path = dockerConfigPath();
  const cfg = readConfig(path);
  const key = authKey(registry);
  const helper = helperFor(cfg, registry);
  const auths = { ...(cfg.auths ?? {}) };
  const existing = findEntry(auths, registry);
  if (existing) delete auths[existing[0]];
  if (helper) {
    await credentialHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: creds.username, Secret: creds.password }));
    auths[key] = {};
  } else {
    auths[key] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  }
  writeConfig(path, { ...cfg, auths });
  return path;
}

/** Forgets a registry's credentials; false when there were none. */
export async function removeCredentials(registry: string): Promise<boolean> {
  const path = dockerConfigPath();
  const cfg = readConfig(path);
  const helper = helperFor(cfg, registry);
  const auths = { ...(cfg.auths ?? {}) };
  const existing = findEntry(auths, registry);
  let removed = false;
  if (helper) removed = (await credentialHelper(helper, 'erase', authKey(registry)).then(() => true, () => false)) || removed;
  if (existing) {
    delete auths[existing[0]];
    writeConfig(path, { ...cfg, auths });
    removed = true;
  }
  return removed;
}

function writeConfig(path: string, cfg: DockerConfigFile): void {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  writeFileAtomic(path, `${JSON.stringify(cfg, null, '\t')}\n`, 0o600);
}

/**
 * Runs docker-credential-<helper> with `action` and `input` on stdin (the
 * protocol of docker/docker-credential-helpers). `get` of an unknown server
 * gives undefined.
 */
async function credentialHelper(helper: string, action: 'get' | 'store' | 'erase', input: string): Promise<Credentials | undefined> {
  const program = `docker-credential-${helper}`;
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
    const child = spawn(program, [action], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.resume();
    child.on('error', (err) => reject(new UserError(`the credential helper ${program} (credsStore/credHelpers in ${dockerConfigPath()}) cannot run: ${err.message}`, 1,
      `Install ${program}, or remove the helper from ${dockerConfigPath()}`)));
    child.on('close', (c) => resolve({ code: c ?? 1, stdout: Buffer.concat(out).toString('utf8') }));
    child.stdin.end(input);
  });
  if (action !== 'get') {
    if (code !== 0) throw new UserError(`${program} ${action} failed: ${stdout.trim()}`);
    return undefined;
  }
  if (code !== 0) {
    if (/credentials not found/i.test(stdout)) return undefined;
    throw new UserError(`${program} get failed: ${stdout.trim()}`);
  }
  const parsed = JSON.parse(stdout) as { Username?: string; Secret?: string };
  if (!parsed.Secret) return undefined;
  return { username: parsed.Username ?? '', password: parsed.Secret };
}
