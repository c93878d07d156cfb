import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A real registry for the tests: Debian's docker-registry (distribution
 * 2.8) on 127.0.0.1 and a free port, with its storage in a temp dir; open,
 * behind htpasswd Basic auth, or behind a token server written here (a
 * Node HTTP server issuing RS256 JWTs with the certificate in x5c, which the
 * registry trusts through its rootcertbundle).
 */

export interface TestRegistry {
  /** host:port, as image references name it. */
  host: string;
  dir: string;
  /** Where the registry keeps blobs: <storage>/docker/registry/v2/blobs/sha256/<2 hex>/<hex>/data. */
  blobFile(digest: string): string;
  user?: { username: string; password: string };
  /** The token server's requests (scope and account), for assertions. */
  tokenRequests: { scope: string[]; account?: string }[];
  stop(): Promise<void>;
}

export type RegistryAuth = 'none' | 'htpasswd' | 'token';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startRegistry(auth: RegistryAuth = 'none'): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-registry-'));
  const storage = join(dir, 'storage');
  mkdirSync(storage);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const user = { username: 'alice', password: `pw-${randomBytes(6).toString('hex')}` };
  let token: TokenServer | undefined;
  let child: ChildProcess | undefined;
  const errs: Buffer[] = [];
  const stop = async () => {
    if (child) await stopChild(child);
    if (token) await new Promise<void>((r) => token!.server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    let authYaml = '';
    if (auth === 'htpasswd') {
      const line = execFileSync('htpasswd', ['-Bbn', user.username, user.password], { encoding: 'utf8' });
      writeFileSync(join(dir, 'htpasswd'), line);
      authYaml = `auth:\n  htpasswd:\n    realm: tscompose-test\n    path: ${join(dir, 'htpasswd')}\n`;
    } else if (auth === 'token') {
      token = await startTokenServer(dir, user);
      authYaml = `auth:\n  token:\n    realm: http://127.0.0.1:${token.port}/token\n    service: tscompose-test-registry\n    issuer: tscompose-test-issuer\n    rootcertbundle: ${token.certPath}\n`;
    }
    const config = join(dir, 'config.yml');
    writeFileSync(config, [
      'version: 0.1',
      'log:\n  level: warn\n  accesslog:\n    disabled: true',
      `storage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true`,
      `http:\n  addr: ${host}`,
      authYaml,
    ].join('\n'));
    child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (b: Buffer) => errs.push(b));
    await waitForHttp(`http://${host}/v2/`, child, () => Buffer.concat(errs).toString());
  } catch (err) {
    // Whatever step failed, nothing of this registry stays: no process, no server, no dir.
    await stop();
    throw err;
  }
  return {
    host, dir, stop,
    blobFile: (digest) => {
      const hex = digest.replace(/^sha256:/, '');
      return join(storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    },
    ...(auth !== 'none' ? { user } : {}),
    tokenRequests: token?.requests ?? [],
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function waitForHttp(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${log()}`);
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`docker-registry did not answer on ${url} within 10 s: ${log()}`);
}

interface TokenServer {
  server: Server;
  port: number;
  certPath: string;
  requests: { scope: string[]; account?: string }[];
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * The token server: anonymous callers get pull access to every repository,
 * the test user pull and push; wrong credentials get 401, as Docker Hub's
 * auth server answers.
 */
async function startTokenServer(dir: string, user: { username: string; password: string }): Promise<TokenServer> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=tscompose-test-issuer'],
    { stdio: 'ignore' });
  const key = createPrivateKey(readFileSync(keyPath));
  const certDer = new X509Certificate(readFileSync(certPath)).raw;
  const requests: TokenServer['requests'] = [];
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    let account: string | undefined;
    const authz = req.headers.authorization;
    if (authz?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(authz.slice(6), 'base64').toString().split(':');
      if (u !== user.username || p.join(':') !== user.password) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      account = u;
    }
    requests.push({ scope: scopes, ...(account ? { account } : {}) });
    const access = scopes.flatMap((s) => {
      const m = /^repository:([^:]+):(.+)$/.exec(s);
      if (!m) return [];
      const asked = m[2]!.split(',');
      const actions = asked.filter((a) => a === 'pull' || (a === 'push' && account));
      return [{ type: 'repository', name: m[1]!, actions }];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] };
    const claims = {
      iss: 'tscompose-test-issuer', sub: account ?? '', aud: url.searchParams.get('service') ?? '',
      exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), key);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: `${signingInput}.${b64url(signature)}`, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return { server, port, certPath, requests };
}

/** A DOCKER_CONFIG dir of the test's own, so that no test reads or writes ~/.docker. */
export function isolateDockerConfig(): { dir: string; restore(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-dockercfg-'));
  const before = process.env.DOCKER_CONFIG;
  process.env.DOCKER_CONFIG = dir;
  return {
    dir,
    restore() {
      if (before === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = before;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
