import { Readable } from 'node:stream';
import { UserError } from '../../../util/errors.js';
import { familiarString, sha256Digest } from '../image/index.js';
import { repositoryScope } from './auth.js';
import { RegistryHttp, networkCause, statusError, type RegistryHttpOptions } from './http.js';
import { MANIFEST_ACCEPT } from './manifest.js';

/**
 * The distribution API (opencontainers/distribution-spec spec.md) for one
 * repository: manifests by tag or digest, blobs (existence, download, upload
 * in one stream or in chunks, cross-repository mounts).
 */

export interface FetchedManifest {
  bytes: Buffer;
  contentType: string | null;
  /** sha256 of the exact bytes (checked against Docker-Content-Digest, and against the reference when it is a digest). */
  digest: string;
}

export type UploadStart = { mounted: true } | { mounted: false; location: string };

/** Manifests and configs are small; more than this is a broken or hostile registry. */
const MAX_MANIFEST_BYTES = 8 << 20;

export class RepositoryClient {
  readonly http: RegistryHttp;

  constructor(readonly registry: string, readonly repo: string, http?: RegistryHttp, opts: RegistryHttpOptions = {}) {
    this.http = http ?? new RegistryHttp(registry, opts);
  }

  /** The repository as users write it (`busybox`, `localhost:5000/team/app`), for messages. */
  get name(): string {
    return familiarString({ domain: this.registry, path: this.repo });
  }

  private scopes(push: boolean): string[] {
    return [repositoryScope(this.repo, push ? 'push' : 'pull')];
  }

  private async req(what: string, ...args: Parameters<RegistryHttp['request']>): Promise<Response> {
    try {
      return await this.http.request(...args);
    } catch (err) {
      if (err instanceof UserError || (err as Error).name === 'AbortError') throw err;
      throw new UserError(`${what}: cannot reach registry ${this.http.host}: ${networkCause(err)}`);
    }
  }

  /** The digest a tag points at, without downloading the manifest (HEAD is free of Hub's rate limit); undefined when the registry does not say. */
  async manifestDigest(reference: string): Promise<string | undefined> {
    const res = await this.req(`${this.name}:${reference}`, { method: 'HEAD', path: `/v2/${this.repo}/manifests/${reference}`, scopes: this.scopes(false), headers: { accept: MANIFEST_ACCEPT } });
    if (res.status === 404) return undefined;
    if (!res.ok) return undefined;
    const d = res.headers.get('docker-content-digest');
    return d && /^sha256:[0-9a-f]{64}$/.test(d) ? d : undefined;
  }

  async getManifest(reference: string): Promise<FetchedManifest> {
    const where = `${this.name}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
    const res = await this.req(where, { path: `/v2/${this.repo}/manifests/${reference}`, scopes: this.scopes(false), headers: { accept: MANIFEST_ACCEPT } });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new UserError(`manifest for ${where} not found: manifest unknown`, 1, 'Check the name and tag (tscompose pushes and pulls are case-sensitive)');
    }
    if (!res.ok) throw await statusError(res, `pull access to ${where}`, `The repository does not exist or needs a login: tscompose login ${this.registry}`);
    const bytes = await readLimited(res, MAX_MANIFEST_BYTES, `the manifest of ${where}`);
    const digest = sha256Digest(bytes);
    const claimed = res.headers.get('docker-content-digest');
    if (claimed && claimed.startsWith('sha256:') && claimed !== digest) {
      throw new UserError(`the manifest of ${where} does not match its digest: the registry says ${claimed}, its bytes hash to ${digest}`, 1, 'The registry or something between it and us altered it; nothing was kept');
    }
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new UserError(`the manifest fetched for ${where} hashes to ${digest}: refused`, 1, 'The registry or something between it and us altered it; nothing was kept');
    }
    return { bytes, contentType: res.headers.get('content-type'), digest };
  }

  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const where = `${this.name}:${reference}`;
    const res = await this.req(where, { method: 'PUT', path: `/v2/${this.repo}/manifests/${reference}`, scopes: this.scopes(true), headers: { 'content-type': mediaType }, body: bytes });
    if (res.status !== 201 && !res.ok) throw await statusError(res, `push of the manifest of ${where}`);
    await res.body?.cancel();
    return res.headers.get('docker-content-digest') ?? sha256Digest(bytes);
  }

  /** The blob's size when the repository has it; undefined when not. */
  async blobSize(digest: string, push = false): Promise<number | undefined> {
    const res = await this.req(`${this.name}@${digest}`, { method: 'HEAD', path: `/v2/${this.repo}/blobs/${digest}`, scopes: this.scopes(push) });
    await res.body?.cancel();
    if (res.status === 404) return undefined;
    if (!res.ok) throw await statusError(res, `checking blob ${digest} in ${this.name}`);
    const len = Number(res.headers.get('content-length'));
    return Number.isFinite(len) ? len : 0;
  }

  /** The blob's body as a stream (after redirects). */
  async getBlob(digest: string): Promise<{ stream: Readable; length: number | undefined }> {
    const res = await this.req(`${this.name}@${digest}`, { path: `/v2/${this.repo}/blobs/${digest}`, scopes: this.scopes(false) });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new UserError(`blob ${digest} of ${this.name} not found (blob unknown)`, 1, 'The image in the registry is incomplete: push it again');
    }
    if (!res.ok || !res.body) throw await statusError(res, `download of blob ${digest} from ${this.name}`);
    const len = Number(res.headers.get('content-length'));
    return { stream: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), length: Number.isFinite(len) && res.headers.has('content-length') ? len : undefined };
  }

  /** A small blob (a config) in memory, checked against its digest. */
  async getBlobBytes(digest: string, maxBytes = MAX_MANIFEST_BYTES): Promise<Buffer> {
    const res = await this.req(`${this.name}@${digest}`, { path: `/v2/${this.repo}/blobs/${digest}`, scopes: this.scopes(false) });
    if (!res.ok) throw await statusError(res, `download of blob ${digest} from ${this.name}`);
    const bytes = await readLimited(res, maxBytes, `blob ${digest} of ${this.name}`);
    const got = sha256Digest(bytes);
    if (got !== digest) {
      throw new UserError(`blob ${digest} of ${this.name} refused: its content hashes to ${got}`, 1, 'The registry or something between it and us altered it; nothing was kept');
    }
    return bytes;
  }

  /**
   * Starts an upload; with `mount`, asks the registry to link the blob from
   * another repository instead (201: done; 202: it would not, upload as usual).
   */
  async startUpload(mount?: { digest: string; from: string }): Promise<UploadStart> {
    const query = mount ? `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}` : '';
    const scopes = [...this.scopes(true), ...(mount ? [repositoryScope(mount.from, 'pull')] : [])];
    const res = await this.req(`upload to ${this.name}`, { method: 'POST', path: `/v2/${this.repo}/blobs/uploads/${query}`, scopes });
    await res.body?.cancel();
    if (res.status === 201 && mount) return { mounted: true };
    if (res.status !== 202) throw await statusError(res, `starting an upload to ${this.name}`, `Pushing needs push access: tscompose login ${this.registry}`);
    return { mounted: false, location: this.location(res) };
  }

  private location(res: Response): string {
    const loc = res.headers.get('location');
    if (!loc) throw new UserError(`registry ${this.http.host} gave no upload Location`);
    return new URL(loc, this.http.baseUrl()).toString();
  }

  /** Sends one PATCH of the upload (a whole stream, or one chunk with its Content-Range); returns the next Location. */
  async patchUpload(location: string, body: Buffer | (() => AsyncIterable<Uint8Array>), range?: { start: number; end: number }): Promise<string> {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (range) {
      headers['content-range'] = `${range.start}-${range.end}`;
      headers['content-length'] = String(range.end - range.start + 1);
    }
    const res = await this.req(`upload to ${this.name}`, {
      method: 'PATCH', path: location, scopes: this.scopes(true), headers,
      body: Buffer.isBuffer(body) ? body : () => body(),
    });
    await res.body?.cancel();
    if (res.status !== 202) throw await statusError(res, `upload to ${this.name}`);
    return this.location(res);
  }

  /** Closes an upload with the blob's digest (and its last bytes, or all of them for a monolithic upload). */
  async finishUpload(location: string, digest: string, body?: Buffer): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    const res = await this.req(`upload to ${this.name}`, { method: 'PUT', path: url.toString(), scopes: this.scopes(true), headers, body: body ?? Buffer.alloc(0) });
    await res.body?.cancel();
    if (res.status !== 201) throw await statusError(res, `finishing the upload of ${digest} to ${this.name}`);
  }

  /** Uploads a small blob (a config) in one PUT, unless the repository has it already. */
  async pushSmallBlob(bytes: Buffer): Promise<{ digest: string; size: number; existed: boolean }> {
    const digest = sha256Digest(bytes);
    if ((await this.blobSize(digest, true)) !== undefined) return { digest, size: bytes.length, existed: true };
    const start = await this.startUpload();
    if (start.mounted) return { digest, size: bytes.length, existed: true };
    await this.finishUpload(start.location, digest, bytes);
    return { digest, size: bytes.length, existed: false };
  }
}

async function readLimited(res: Response, max: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel();
    throw new UserError(`${what} is ${declared} bytes, more than the ${max} allowed`);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  if (res.body) {
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
      n += c.length;
      if (n > max) throw new UserError(`${what} is more than the ${max} bytes allowed`);
      chunks.push(Buffer.from(c));
    }
  }
  return Buffer.concat(chunks);
}
