import { UserError } from '../../../util/errors.js';
import type { Credentials } from './credentials.js';

/**
 * Registry authentication (distribution/distribution docs/spec/auth/token.md):
 * a registry answers 401 with `WWW-Authenticate: Bearer realm=...,service=...,
 * scope=...` and the client asks the realm for a token for the scopes it
 * needs (anonymously, or with Basic credentials), then sends it as
 * `Authorization: Bearer`; or it answers `Basic realm=...` and the client
 * sends the credentials on every request. Tokens are cached per scope set
 * until shortly before they expire.
 */

export interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate value into its challenges (RFC 7235 auth-params,
 * quoted strings with backslash escapes). Unknown schemes are skipped.
 */
export function parseChallenges(header: string | null): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  let i = 0;
  const s = header;
  const skipSpace = () => { while (i < s.length && /[\s,]/.test(s[i]!)) i++; };
  const token = () => {
    const start = i;
    while (i < s.length && /[A-Za-z0-9!#$%&'*+.^_`|~-]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  let current: Challenge | undefined;
  while (i < s.length) {
    skipSpace();
    const word = token();
    if (!word) { i++; continue; }
    let j = i;
    while (j < s.length && s[j] === ' ') j++;
    if (s[j] === '=') {
      i = j + 1;
      while (i < s.length && s[i] === ' ') i++;
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        // Unquoted: up to the next separator (servers send bare URLs here, though RFC 7235 says token).
        const start = i;
        while (i < s.length && !/[\s,]/.test(s[i]!)) i++;
        value = s.slice(start, i);
      }
      if (current) current.params[word.toLowerCase()] = value;
      continue;
    }
    const scheme = word.toLowerCase();
    current = scheme === 'bearer' || scheme === 'basic' ? { scheme, params: {} } : undefined;
    if (current) out.push(current);
  }
  return out;
}

export function basicHeader(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

interface CachedToken {
  value: string;
  /** ms since the epoch after which the token is not used any more. */
  expires: number;
}

/** How much of a token's lifetime is kept in reserve, so a request never goes out with one about to lapse. */
const TOKEN_MARGIN_MS = 10_000;
/** The spec's default when a token response gives no expires_in. */
const DEFAULT_TOKEN_SECONDS = 60;

export type TokenFetch = (url: URL, headers: Record<string, string>) => Promise<Response>;

/**
 * The authorization state of one registry host: the challenge it gave, the
 * credentials to use (if any), and the tokens obtained so far.
 */
export class Authorizer {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private credsLoaded = false;
  private creds: Credentials | undefined;

  constructor(
    readonly registry: string,
    private readonly loadCreds: () => Promise<Credentials | undefined>,
    private readonly fetchToken: TokenFetch,
  ) {}

  /** True once the registry said how it authenticates (or that it does not). */
  get known(): boolean {
    return this.challenge !== undefined;
  }

  private async credentials(): Promise<Credentials | undefined> {
    if (!this.credsLoaded) {
      this.creds = await this.loadCreds();
      this.credsLoaded = true;
    }
    return this.creds;
  }

  /** Uses these credentials instead of the stored ones (login verifies new ones this way). */
  useCredentials(creds: Credentials | undefined): void {
    this.creds = creds;
    this.credsLoaded = true;
    this.tokens.clear();
  }

  /** Records the challenge of a 401 (the /v2/ ping, or any request). */
  setChallenge(header: string | null): Challenge | undefined {
    const all = parseChallenges(header);
    const chosen = all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
    if (chosen) this.challenge = chosen;
    return chosen;
  }

  /** The Authorization header for a request needing `scopes`, or undefined (anonymous, or challenge unknown). */
  async header(scopes: string[]): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') {
      const creds = await this.credentials();
      return creds ? basicHeader(creds) : undefined;
    }
    return `Bearer ${await this.token(scopes)}`;
  }

  /** Forgets the cached token for these scopes (after a 401 with it). */
  invalidate(scopes: string[]): void {
    this.tokens.delete(scopeKey(scopes));
  }

  private async token(scopes: string[]): Promise<string> {
    const key = scopeKey(scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return cached.value;
    const ch = this.challenge!;
    const realm = ch.params.realm;
    if (!realm) throw new UserError(`registry ${this.registry} asked for a Bearer token without naming a realm`, 1, 'The registry is misconfigured');
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new UserError(`registry ${this.registry} gave an invalid token realm ${JSON.stringify(realm)}`);
    }
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    const creds = await this.credentials();
    if (creds) {
      url.searchParams.set('account', creds.username);
      headers.authorization = basicHeader(creds);
    }
    const started = Date.now();
    let res: Response;
    try {
      res = await this.fetchToken(url, headers);
    } catch (err) {
      throw new UserError(`cannot reach the token server ${url.origin} of registry ${this.registry}: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403) {
      throw new UserError(`${this.registry}: the token server ${url.origin} refused ${creds ? `the credentials of ${creds.username}` : 'anonymous access'}: ${describeBody(text) || res.statusText}`, 1,
        creds ? `Check the password, then log in again: tscompose login ${this.registry}` : `Log in first: tscompose login ${this.registry}`);
    }
    if (!res.ok) throw new UserError(`${this.registry}: the token server ${url.origin} answered ${res.status} ${res.statusText}: ${describeBody(text)}`);
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new UserError(`${this.registry}: the token server ${url.origin} did not answer JSON`);
    }
    const value = body.token || body.access_token;
    if (!value) throw new UserError(`${this.registry}: the token server ${url.origin} gave no token`);
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    this.tokens.set(key, { value, expires: started + Math.max(seconds * 1000 - TOKEN_MARGIN_MS, 1000) });
    return value;
  }
}

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(' ');
}

/** The `errors` of a registry's JSON error body as one line, or the text itself (shortened). */
export function describeBody(text: string): string {
  try {
    const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string; detail?: unknown }[]; details?: string };
    if (Array.isArray(parsed.errors) && parsed.errors.length) {
      return parsed.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    }
    if (typeof parsed.details === 'string') return parsed.details;
  } catch { /* not JSON */ }
  const t = text.trim();
  return t.length > 200 ? `${t.slice(0, 200)}...` : t;
}

/** `repository:<repo>:pull` or `:pull,push`. */
export function repositoryScope(repo: string, actions: 'pull' | 'push'): string {
  return `repository:${repo}:${actions === 'push' ? 'pull,push' : 'pull'}`;
}
