import { UserError } from '../../../util/errors.js';
import { RegistryHttp, statusError } from './http.js';
import { removeCredentials, storeCredentials, type Credentials } from './credentials.js';
import { parseReference } from '../image/index.js';

/**
 * `docker login` / `logout`: the credentials are tried against the registry
 * (Basic on /v2/, or a token from its realm) and stored only when they work.
 */

/** `localhost:5000`, `https://registry.example/v2/` or nothing (Docker Hub) → the registry's name in image references. */
export function registryOf(server: string | undefined): string {
  if (!server) return 'docker.io';
  const host = server.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  if (!host) throw new UserError(`invalid registry address "${server}"`, 1, 'Give HOST[:PORT], e.g. localhost:5000');
  try {
    parseReference(`${host}/x`);
  } catch {
    throw new UserError(`invalid registry address "${server}"`, 1, 'Give HOST[:PORT], e.g. localhost:5000');
  }
  return ['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'].includes(host) ? 'docker.io' : host;
}

export async function verifyCredentials(registry: string, creds: Credentials, signal?: AbortSignal): Promise<void> {
  const http = new RegistryHttp(registry, { credentials: creds, ...(signal ? { signal } : {}) });
  await http.ping();
  if (!http.auth.known) return; // the registry takes anyone: nothing to check
  // Basic: /v2/ with the credentials; Bearer: a token for no particular scope, as docker login asks.
  const res = await http.request({ path: '/v2/', scopes: [] });
  await res.body?.cancel();
  if (res.status === 401) throw new UserError(`login to ${registry} failed: unauthorized: incorrect username or password`, 1, 'Check the username and password');
  if (!res.ok) throw await statusError(res, `login to ${registry}`);
}

export async function login(server: string | undefined, creds: Credentials, signal?: AbortSignal): Promise<{ registry: string; configPath: string }> {
  const registry = registryOf(server);
  if (!creds.username) throw new UserError('login needs a username', 1, 'Give -u USERNAME');
  if (!creds.password) throw new UserError('login needs a password', 1, 'Give --password-stdin and pipe it in, or -p PASSWORD');
  await verifyCredentials(registry, creds, signal);
  const configPath = await storeCredentials(registry, creds);
  return { registry, configPath };
}

export async function logout(server: string | undefined): Promise<{ registry: string; removed: boolean }> {
  const registry = registryOf(server);
  return { registry, removed: await removeCredentials(registry) };
}
