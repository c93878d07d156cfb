import { describe, it, expect, afterEach, beforeEach } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  RepositoryClient, loadCredentials, logout, parseChallenges, parseManifestDocument, registryOf, selectPlatform, storeCredentials,
  isInsecureRegistry,
} from '../../src/engine/native/registry/index.js';
import { MediaType, type OciIndex, type OciPlatform } from '../../src/engine/native/image/index.js';
import { isolateDockerConfig } from '../support/registry.js';

/** The client's HTTP behaviour against small servers of the test's own on 127.0.0.1, and its pure parts. */

const servers: Server[] = [];
let dockerConfig: ReturnType<typeof isolateDockerConfig> | undefined;

beforeEach(() => {
  dockerConfig = isolateDockerConfig();
});

afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
  dockerConfig?.restore();
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  const port = await new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
  return `127.0.0.1:${port}`;
}

describe('registry http: redirects, auth and retries', () => {
  it('follows a blob redirect to another host without the Authorization header, and keeps it on the same host', async () => {
    const seen: { host: string; path: string; auth?: string }[] = [];
    const cdn = await serve((req, res) => {
      seen.push({ host: 'cdn', path: req.url!, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
      res.end('blob-bytes');
    });
    const reg = await serve((req, res) => {
      seen.push({ host: 'registry', path: req.url!, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
      if (!req.headers.authorization) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' });
        res.end();
      } else if (req.url!.includes('/blobs/sha256:aa')) {
        res.writeHead(307, { location: `/v2/repo/moved/${req.url!.split('/').pop()}` });
        res.end();
      } else if (req.url!.includes('/moved/')) {
        res.writeHead(307, { location: `http://${cdn}/data?sig=1` });
        res.end();
      } else {
        res.end('{}');
      }
    });
    await storeCredentials(reg, { username: 'u', password: 'p' });
    const client = new RepositoryClient(reg, 'repo');
    const { stream } = await client.getBlob(`sha256:${'a'.repeat(64)}`);
    let body = '';
    for await (const c of stream) body += String(c);
    expect(body).toBe('blob-bytes');
    const basic = `Basic ${Buffer.from('u:p').toString('base64')}`;
    expect(seen.filter((s) => s.path.includes('moved'))).toEqual([{ host: 'registry', path: expect.stringContaining('/moved/'), auth: basic }]);
    expect(seen.filter((s) => s.host === 'cdn')).toEqual([{ host: 'cdn', path: '/data?sig=1' }]);
  });

  it('retries 503s with backoff and gives up with the registry\'s words after the last one', async () => {
    let calls = 0;
    const flaky = await serve((req, res) => {
      if (req.url === '/v2/') return void res.end('{}');
      calls++;
      if (calls <= 2) {
        res.writeHead(503);
        return void res.end();
      }
      res.writeHead(200, { 'content-type': MediaType.dockerManifest });
      res.end('{"schemaVersion":2}');
    });
    const client = new RepositoryClient(flaky, 'repo', undefined, { backoffMs: 5 });
    const m = await client.getManifest('tag');
    expect(calls).toBe(3);
    expect(m.bytes.toString()).toBe('{"schemaVersion":2}');

    const down = await serve((req, res) => {
      if (req.url === '/v2/') return void res.end('{}');
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'maintenance' }] }));
    });
    const client2 = new RepositoryClient(down, 'repo', undefined, { backoffMs: 5, retries: 2 });
    await expect(client2.getManifest('tag')).rejects.toThrow(/503.*UNAVAILABLE: maintenance/);
  });

  it('refuses a manifest whose bytes do not match the digest the registry gives', async () => {
    const reg = await serve((req, res) => {
      if (req.url === '/v2/') return void res.end('{}');
      res.writeHead(200, { 'content-type': MediaType.dockerManifest, 'docker-content-digest': `sha256:${'0'.repeat(64)}` });
      res.end('{"schemaVersion":2}');
    });
    await expect(new RepositoryClient(reg, 'repo').getManifest('tag')).rejects.toThrow(/does not match its digest/);
  });

  it('says which registry cannot be reached', async () => {
    const reg = await serve((_req, res) => res.end());
    const host = reg;
    for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
    await expect(new RepositoryClient(host, 'repo', undefined, { retries: 0 }).getManifest('x')).rejects.toThrow(new RegExp(`cannot reach registry ${host}.*ECONNREFUSED`));
  });
});

describe('registry: pure parts', () => {
  it('parses WWW-Authenticate challenges with quoted, escaped and several parameters', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } },
    ]);
    expect(parseChallenges('Basic realm="a \\"quoted\\" realm", Bearer realm=https://x/token,error="insufficient_scope"')).toEqual([
      { scheme: 'basic', params: { realm: 'a "quoted" realm' } },
      { scheme: 'bearer', params: { realm: 'https://x/token', error: 'insufficient_scope' } },
    ]);
    expect(parseChallenges(null)).toEqual([]);
  });

  it('selects a platform: exact variant, then none, skipping attestations; says what there is otherwise', () => {
    const d = (digit: string, platform: OciPlatform, annotations?: Record<string, string>) => ({ mediaType: MediaType.ociManifest, digest: `sha256:${digit.repeat(64)}`, size: 1, platform, ...(annotations ? { annotations } : {}) });
    const index: OciIndex = {
      schemaVersion: 2,
      manifests: [
        d('0', { os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest' }),
        d('1', { os: 'linux', architecture: 'arm', variant: 'v6' }),
        d('2', { os: 'linux', architecture: 'arm', variant: 'v7' }),
        d('3', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
        d('4', { os: 'linux', architecture: 'amd64' }),
        d('5', { os: 'windows', architecture: 'amd64' }),
      ],
    };
    expect(selectPlatform(index, { os: 'linux', architecture: 'amd64' }, 'x').digest).toBe(`sha256:${'4'.repeat(64)}`);
    expect(selectPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v7' }, 'x').digest).toBe(`sha256:${'2'.repeat(64)}`);
    expect(selectPlatform(index, { os: 'linux', architecture: 'arm64' }, 'x').digest).toBe(`sha256:${'3'.repeat(64)}`);
    expect(() => selectPlatform(index, { os: 'linux', architecture: 'riscv64' }, 'img')).toThrow(/no matching manifest for linux\/riscv64 in the manifest list of img \(it has linux\/arm\/v6, linux\/arm\/v7, linux\/arm64\/v8, linux\/amd64, windows\/amd64\)/);
  });

  it('refuses schema 1 manifests and non-image artifacts with a sentence', () => {
    const schema1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }));
    expect(() => parseManifestDocument(schema1, MediaType.dockerManifestV1Signed, 'old:image')).toThrow(/old:image has a schema 1 manifest/);
    const helm = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.ociManifest,
      config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 2 },
      layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: `sha256:${'2'.repeat(64)}`, size: 3 }],
    }));
    expect(() => parseManifestDocument(helm, null, 'charts/app:1')).toThrow(/charts\/app:1: layer .* is not an image layer/);
  });

  it('keeps credentials in docker config.json the way docker login does, under the Hub\'s v1 key', async () => {
    await storeCredentials('docker.io', { username: 'hubuser', password: 'hub:pass' });
    await storeCredentials('localhost:5000', { username: 'me', password: 'secret' });
    const file = JSON.parse(readFileSync(join(dockerConfig!.dir, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Object.keys(file.auths).sort()).toEqual(['https://index.docker.io/v1/', 'localhost:5000']);
    expect(Buffer.from(file.auths['https://index.docker.io/v1/']!.auth, 'base64').toString()).toBe('hubuser:hub:pass');
    expect(await loadCredentials('docker.io')).toEqual({ username: 'hubuser', password: 'hub:pass' });
    // Keys written by other tools with a scheme or path still match.
    writeFileSync(join(dockerConfig!.dir, 'config.json'), JSON.stringify({ auths: { 'http://reg.example:5000/v2/': { auth: Buffer.from('a:b').toString('base64') } }, other: 1 }));
    expect(await loadCredentials('reg.example:5000')).toEqual({ username: 'a', password: 'b' });
    expect(await logout('reg.example:5000')).toEqual({ registry: 'reg.example:5000', removed: true });
    expect(JSON.parse(readFileSync(join(dockerConfig!.dir, 'config.json'), 'utf8'))).toEqual({ auths: {}, other: 1 });
    expect(await loadCredentials('nowhere.example')).toBeUndefined();
    writeFileSync(join(dockerConfig!.dir, 'config.json'), '{ broken');
    await expect(loadCredentials('docker.io')).rejects.toThrow(/config.json is not valid JSON/);
  });

  it('names registries and insecure hosts as Docker does', () => {
    expect(registryOf(undefined)).toBe('docker.io');
    expect(registryOf('https://index.docker.io/v1/')).toBe('docker.io');
    expect(registryOf('http://LocalHost:5000/')).toBe('localhost:5000');
    expect(() => registryOf('bad host')).toThrow(/invalid registry address/);
    expect(isInsecureRegistry('127.0.0.1:5000')).toBe(true);
    expect(isInsecureRegistry('127.9.9.9')).toBe(true);
    expect(isInsecureRegistry('localhost:5000')).toBe(true);
    expect(isInsecureRegistry('[::1]:5000')).toBe(true);
    expect(isInsecureRegistry('registry.example:5000')).toBe(false);
    expect(isInsecureRegistry('128.0.0.1')).toBe(false);
  });
});
