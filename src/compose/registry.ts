import { login as storeLogin, logout as forget } from '../engine/native/registry/login.js';

/**
 * `login` and `logout`: credentials checked against the registry and kept
 * in Docker's ~/.docker/config.json (or the credential helper it names), so
 * that docker and tscompose share them. Registries are reached by the
 * client, not by an engine: the same for both backends.
 */
export async function login(server: string | undefined, credentials: { username: string; password: string }): Promise<{ registry: string; configPath: string }> {
  return storeLogin(server, credentials);
}

export async function logout(server: string | undefined): Promise<{ registry: string; removed: boolean }> {
  return forget(server);
}
