import { setTimeout as sleep } from 'node:timers/promises';
import { isIP } from 'node:net';
import { UserError } from '../../../util/errors.js';
import { Authorizer, describeBody } from './auth.js';
import { loadCredentials, type Credentials } from './credentials.js';

/**
 * HTTP to one registry host on Node's fetch: the scheme (https, or http for
 * insecure registries, as Docker allows for 127.0.0.0/8 and localhost),
 * authentication on a 401, retries with backoff on 5xx, 429 and network
 * errors, and redirects followed by hand so that a blob fetched from a CDN
 * on another host never gets the registry's Authorization header.
 */

export interface RegistryHttpOptions {
  /** Credentials instead of those in ~/.docker/config.json (login tries new ones). */
  credentials?: Credentials;
  /** Retries after a 5xx, 429 or network error (default 3). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry (default 250). */
  backoffMs?: number;
  signal?: AbortSignal;
}

export interface RequestOptions {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path on the registry (`/v2/...`) or an absolute URL it gave (an upload Location). */
  path: string;
  scopes: string[];
  headers?: Record<string, string>;
  /** Bytes (the request is retried), or a factory of a stream body (sent once: not retried). */
  body?: Buffer | string | (() => ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>);
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const MAX_REDIRECTS = 10;
const PING_TIMEOUT_MS = 15_000;
const USER_AGENT = 'tscompose/0.1 (registry client; node fetch)';

/**
 * Docker Hub's API lives on another host than the one image names use; a
 * mirror (TSCOMPOSE_REGISTRY_MIRROR=host[:port], like dockerd's
 * --registry-mirror, e.g. a pull-through cache) takes its place.
 */
export function apiHost(registry: string): string {
  if (registry !== 'docker.io') return registry;
  const mirror = process.env.TSCOMPOSE_REGISTRY_MIRROR?.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return mirror || 'registry-1.docker.io';
}

/**
 * Registries that may be spoken to over plain http: loopback ones (dockerd's
 * default insecure range is 127.0.0.0/8) and those listed in
 * TSCOMPOSE_INSECURE_REGISTRIES (comma separated host[:port]).
 */
export function isInsecureRegistry(host: string): boolean {
  const listed = (process.env.TSCOMPOSE_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (listed.includes(host)) return true;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  return name === '::1';
}

/** Which scheme each host answered on, for this process. */
const schemes = new Map<string, 'https' | 'http'>();

export class RegistryHttp {
  readonly host: string;
  readonly auth: Authorizer;
  private pinged: Promise<void> | undefined;
  private readonly retries: number;
  private readonly backoffMs: number;

  constructor(readonly registry: string, private readonly opts: RegistryHttpOptions = {}) {
    this.host = apiHost(registry);
    this.retries = opts.retries ?? 3;
    this.backoffMs = opts.backoffMs ?? 250;
    const creds = opts.credentials;
    this.auth = new Authorizer(registry, creds ? async () => creds : () => loadCredentials(registry),
      (url, headers) => this.fetchRetrying(url.toString(), { headers: { 'user-agent': USER_AGENT, ...headers }, signal: this.opts.signal }));
  }

  get signal(): AbortSignal | undefined {
    return this.opts.signal;
  }

  /**
   * GET /v2/: decides the scheme and learns how the registry authenticates.
   * Done once per client, before the first real request, so that a request
   * with a stream body never meets a 401 it cannot repeat.
   */
  ping(): Promise<void> {
    this.pinged ??= this.doPing().catch((err: unknown) => {
      this.pinged = undefined;
      throw err;
    });
    return this.pinged;
  }

  private async doPing(): Promise<void> {
    const res = await this.pingOnScheme();
    await res.body?.cancel();
    if (res.status === 401) {
      this.auth.setChallenge(res.headers.get('www-authenticate'));
      return;
    }
    if (res.status === 404) {
      throw new UserError(`${this.host} does not answer the registry API v2 (GET /v2/ gave 404)`, 1, 'Check the registry address');
    }
    if (!res.ok && res.status !== 403) throw new UserError(`registry ${this.host} answered GET /v2/ with ${res.status} ${res.statusText}`);
  }

  private async pingOnScheme(): Promise<Response> {
    const known = schemes.get(this.host);
    const candidates: Array<'https' | 'http'> = known ? [known] : isInsecureRegistry(this.host) ? ['https', 'http'] : ['https'];
    let lastErr: unknown;
    for (const scheme of candidates) {
      try {
        const timeout = AbortSignal.timeout(PING_TIMEOUT_MS);
        const signal = this.opts.signal ? AbortSignal.any([this.opts.signal, timeout]) : timeout;
        const res = await this.fetchRetrying(`${scheme}://${this.host}/v2/`, { headers: { 'user-agent': USER_AGENT }, signal },
          // An https attempt at a plain-http registry fails at once: no point in retrying it.
          scheme === 'https' && candidates.length > 1 ? 0 : undefined);
        schemes.set(this.host, scheme);
        return res;
      } catch (err) {
        if (this.opts.signal?.aborted) throw err;
        lastErr = err;
      }
    }
    throw new UserError(`cannot reach registry ${this.host}: ${networkCause(lastErr)}`, 1,
      isInsecureRegistry(this.host) ? 'Is the registry running on that address?' : 'Check the name and your network; only 127.0.0.0/8 and localhost registries may use plain http');
  }

  baseUrl(): string {
    return `${schemes.get(this.host) ?? 'https'}://${this.host}`;
  }

  /**
   * One registry request: authorized for `scopes` (a 401 gets a token for
   * them and the request once more), retried on transient failures when its
   * body can be sent again, GET/HEAD redirects followed.
   */
  async request(o: RequestOptions): Promise<Response> {
    await this.ping();
    const method = o.method ?? 'GET';
    let url = new URL(o.path, this.baseUrl()).toString();
    const replayable = typeof o.body !== 'function';
    let authRetried = false;
    for (let redirects = 0; ; ) {
      const sameHost = new URL(url).host === this.host;
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...(o.headers ?? {}) };
      if (sameHost) {
        const authz = await this.auth.header(o.scopes);
        if (authz) headers.authorization = authz;
      }
      const init: RequestInit & { duplex?: 'half' } = { method, headers, redirect: 'manual', signal: this.opts.signal };
      if (o.body !== undefined) {
        init.body = typeof o.body === 'function' ? (o.body() as ReadableStream<Uint8Array>) : o.body;
        if (typeof o.body === 'function') init.duplex = 'half';
      }
      const res = await this.fetchRetrying(url, init, replayable ? undefined : 0);
      if (res.status === 401 && sameHost && !authRetried) {
        authRetried = true;
        await res.body?.cancel();
        this.auth.setChallenge(res.headers.get('www-authenticate'));
        this.auth.invalidate(o.scopes);
        if (!replayable) {
          throw new UserError(`registry ${this.host} refused ${method} ${new URL(url).pathname} as unauthorized`, 1, `Log in: tscompose login ${this.registry}`);
        }
        continue;
      }
      if (REDIRECTS.has(res.status) && (method === 'GET' || method === 'HEAD')) {
        const location = res.headers.get('location');
        await res.body?.cancel();
        if (!location) throw new UserError(`registry ${this.host} redirected ${new URL(url).pathname} without a Location`);
        if (++redirects > MAX_REDIRECTS) throw new UserError(`registry ${this.host}: too many redirects for ${o.path}`);
        url = new URL(location, url).toString();
        continue;
      }
      return res;
    }
  }

  /** fetch with retries (network errors, 5xx, 429) and exponential backoff. */
  private async fetchRetrying(url: string, init: RequestInit, retries = this.retries): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let res: Response | undefined;
      let error: unknown;
      try {
        res = await fetch(url, init);
      } catch (err) {
        if (init.signal?.aborted) throw err;
        error = err;
      }
      if (res && !RETRY_STATUS.has(res.status)) return res;
      if (attempt >= retries) {
        if (res) return res;
        throw error;
      }
      let delay = this.backoffMs * 2 ** attempt;
      const after = Number(res?.headers.get('retry-after'));
      if (Number.isFinite(after) && after > 0) delay = Math.min(after * 1000, 10_000);
      await res?.body?.cancel();
      await sleep(delay, undefined, init.signal ? { signal: init.signal } : undefined);
    }
  }
}

/** The useful part of a fetch failure: undici wraps the socket error in `cause`. */
export function networkCause(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  if (e?.cause?.code) return `${e.cause.code}${e.cause.message ? ` (${e.cause.message})` : ''}`;
  return e?.cause?.message ?? e?.message ?? String(err);
}

/** A registry error for an unexpected status, with the registry's own words. */
export async function statusError(res: Response, what: string, hint?: string): Promise<UserError> {
  const text = await res.text().catch(() => '');
  const detail = describeBody(text);
  if (res.status === 401) return new UserError(`${what}: unauthorized${detail ? ` (${detail})` : ''}`, 1, hint ?? 'Log in with tscompose login REGISTRY, or check that the repository exists');
  if (res.status === 403) return new UserError(`${what}: denied${detail ? ` (${detail})` : ''}`, 1, hint ?? 'Your account has no access to this repository');
  return new UserError(`${what}: the registry answered ${res.status} ${res.statusText}${detail ? ` (${detail})` : ''}`, 1, hint);
}
