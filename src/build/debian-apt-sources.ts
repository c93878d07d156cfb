import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The host's apt sources, read so that a Debian rootfs made on this machine
 * fetches its packages from the same mirror the host uses (often the only one
 * reachable). Both of apt's formats are read: deb822 `*.sources` stanzas and
 * one-line `*.list` entries; disabled stanzas and files with other suffixes
 * are ignored, as apt ignores them.
 */
export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  /** Where the entry came from, for error messages. */
  origin: string;
}

export interface DebianMirrors {
  /** Serves `<suite>` and `<suite>-updates`. */
  mirror: string;
  /** Serves `<suite>-security`. */
  securityMirror: string;
}

export const DEFAULT_MIRRORS: DebianMirrors = {
  mirror: 'http://deb.debian.org/debian',
  securityMirror: 'http://deb.debian.org/debian-security',
};

/** Parses deb822 text (`/etc/apt/sources.list.d/*.sources`). */
export function parseDeb822Sources(text: string, origin = 'deb822'): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of splitStanzas(text)) {
    const fields = parseStanza(stanza);
    if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const words = (key: string) => (fields.get(key) ?? '').split(/\s+/).filter(Boolean);
    const source = { types: words('types'), uris: words('uris'), suites: words('suites'), components: words('components'), origin };
    if (source.types.length && source.uris.length && source.suites.length) out.push(source);
  }
  return out;
}

/** Parses one-line sources (`/etc/apt/sources.list`): `deb [options] uri suite component...`. */
export function parseOneLineSources(text: string, origin = 'sources.list'): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    // Options may be bracketed with spaces inside: `deb [arch=amd64 signed-by=...] uri ...`.
    const m = /^(deb|deb-src)\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({ types: [m[1]!], uris: [m[2]!], suites: [m[3]!], components: m[4]!.split(/\s+/).filter(Boolean), origin });
  }
  return out;
}

/** Every enabled source of the host, in apt's reading order. */
export function hostAptSources(etcApt = '/etc/apt'): AptSource[] {
  const out: AptSource[] = [];
  const list = join(etcApt, 'sources.list');
  if (existsSync(list)) out.push(...parseOneLineSources(readFileSync(list, 'utf8'), list));
  const dir = join(etcApt, 'sources.list.d');
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (name.endsWith('.sources')) out.push(...parseDeb822Sources(readFileSync(path, 'utf8'), path));
      else if (name.endsWith('.list')) out.push(...parseOneLineSources(readFileSync(path, 'utf8'), path));
    }
  }
  return out;
}

/**
 * Picks the Debian mirror and security mirror from the host's sources. A
 * source counts as Debian's when one of its suites is a Debian codename or
 * alias (`isDebianSuite`), which leaves third-party repositories (nodesource,
 * cloud SDKs) out whatever their order.
 */
export function debianMirrors(sources: AptSource[], isDebianSuite: (suite: string) => boolean): DebianMirrors {
  const binary = sources.filter((s) => s.types.includes('deb'));
  const base = (suite: string) => suite.replace(/(-security|-updates|-backports|\/updates)$/, '');
  const main = binary.find((s) => s.suites.some((x) => !/(-security|\/updates)$/.test(x) && isDebianSuite(base(x))));
  const security = binary.find((s) => s.suites.some((x) => /(-security|\/updates)$/.test(x) && isDebianSuite(base(x))));
  return {
    mirror: trimSlash(main?.uris[0] ?? DEFAULT_MIRRORS.mirror),
    securityMirror: trimSlash(security?.uris[0] ?? DEFAULT_MIRRORS.securityMirror),
  };
}

/** The sources file a `<suite>` rootfs carries: the release, its updates and its security suite where they exist. */
export function renderDeb822Sources(suite: string, mirrors: DebianMirrors, keyring: string): string {
  const stanzas: string[] = [];
  const mainSuites = [suite, ...(hasUpdates(suite) ? [`${suite}-updates`] : [])];
  stanzas.push(stanza(mirrors.mirror, mainSuites, keyring));
  const sec = securitySuite(suite);
  if (sec) stanzas.push(stanza(mirrors.securityMirror, [sec], keyring));
  return stanzas.join('\n');
}

const UNSTABLE = new Set(['sid', 'unstable', 'ceres', 'experimental']);
// Before bullseye the security suite was `<suite>/updates`.
const OLD_SECURITY_NAMING = new Set(['squeeze', 'wheezy', 'jessie', 'stretch', 'buster']);

function hasUpdates(suite: string): boolean {
  return !UNSTABLE.has(suite);
}

export function securitySuite(suite: string): string | undefined {
  if (UNSTABLE.has(suite)) return undefined;
  return OLD_SECURITY_NAMING.has(suite) ? `${suite}/updates` : `${suite}-security`;
}

function stanza(uri: string, suites: string[], keyring: string): string {
  return `Types: deb\nURIs: ${uri}\nSuites: ${suites.join(' ')}\nComponents: main\nSigned-By: ${keyring}\n`;
}

function trimSlash(uri: string): string {
  return uri.replace(/\/+$/, '');
}

function splitStanzas(text: string): string[][] {
  const stanzas: string[][] = [];
  let current: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    if (line.trim() === '') {
      if (current.length) stanzas.push(current);
      current = [];
      continue;
    }
    current.push(line);
  }
  if (current.length) stanzas.push(current);
  return stanzas;
}

function parseStanza(lines: string[]): Map<string, string> {
  const fields = new Map<string, string>();
  let key: string | undefined;
  for (const line of lines) {
    if (/^\s/.test(line) && key) {
      // A continuation line (Signed-By may embed a whole key block this way).
      fields.set(key, `${fields.get(key)} ${line.trim() === '.' ? '' : line.trim()}`);
      continue;
    }
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    key = m[1]!.toLowerCase();
    fields.set(key, m[2]!.trim());
  }
  return fields;
}
