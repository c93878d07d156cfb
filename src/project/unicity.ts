import { dedupeList, keyOfKeyValue } from './merge.js';
import { parseVolumeString, VolumeSyntaxError } from './syntax/volumes.js';
import { isMap, pathMatches, type Node } from './tree.js';

/**
 * Phase 9: some lists are really sets keyed by something (a mount's target,
 * a variable's name). After a merge appends an override's list to the
 * base's, a later entry with the same key replaces the earlier one, in place
 * (compose-go `override/uncity.go`). Entries of the wrong type are left for
 * the schema to report.
 */

type KeyOf = (n: Node) => string | undefined;

const str = (n: Node): string | undefined => (n.kind === 'scalar' && n.value !== null && typeof n.value !== 'boolean' ? String(n.value) : undefined);
const field = (n: Node, key: string): string | undefined => (isMap(n) ? str(n.entries.get(key)?.value ?? n) : undefined);

function volumeTarget(n: Node): string | undefined {
  if (isMap(n)) return field(n, 'target');
  if (n.kind !== 'scalar' || typeof n.value !== 'string') return undefined;
  try {
    return parseVolumeString(n.value).target;
  } catch (err) {
    if (err instanceof VolumeSyntaxError) return undefined;
    throw err;
  }
}

function mountKey(defaultDir: string): KeyOf {
  return (n) => {
    if (n.kind === 'scalar') return typeof n.value === 'string' ? `${defaultDir}/${n.value}` : undefined;
    if (!isMap(n)) return undefined;
    // Keyed by the path the file appears at in the container (a relative target is under the default directory).
    const target = field(n, 'target') ?? field(n, 'source');
    if (target === undefined) return undefined;
    return target.startsWith('/') ? target : `${defaultDir}/${target}`;
  };
}

function portKey(n: Node): string | undefined {
  if (!isMap(n)) return str(n);
  const target = field(n, 'target');
  if (target === undefined) return undefined;
  return `${field(n, 'host_ip') ?? '0.0.0.0'}:${field(n, 'published') ?? ''}:${target}/${field(n, 'protocol') ?? 'tcp'}`;
}

function deviceKey(n: Node): string | undefined {
  if (isMap(n)) return field(n, 'target');
  const s = str(n);
  if (s === undefined) return undefined;
  const parts = s.split(':');
  return parts.length === 1 ? parts[0] : parts[1];
}

const envFileKey: KeyOf = (n) => (isMap(n) ? field(n, 'path') : str(n));

const UNIQUE: [string[], KeyOf][] = [
  [['networks', '*', 'labels'], keyOfKeyValue],
  [['networks', '*', 'ipam', 'options'], keyOfKeyValue],
  ...[
    'annotations', 'cap_add', 'cap_drop', 'dns', 'dns_opt', 'dns_search', 'environment', 'labels', 'links', 'profiles', 'sysctls', 'tmpfs',
  ].map((k): [string[], KeyOf] => [['services', '*', k], keyOfKeyValue]),
  ...['args', 'additional_contexts', 'tags', 'labels', 'platforms'].map((k): [string[], KeyOf] => [['services', '*', 'build', k], keyOfKeyValue]),
  [['services', '*', 'deploy', 'labels'], keyOfKeyValue],
  [['services', '*', 'networks', '*', 'aliases'], keyOfKeyValue],
  [['services', '*', 'networks', '*', 'link_local_ips'], keyOfKeyValue],
  [['services', '*', 'expose'], str],
  [['services', '*', 'ports'], portKey],
  [['services', '*', 'volumes'], volumeTarget],
  [['services', '*', 'devices'], deviceKey],
  [['services', '*', 'configs'], mountKey('')],
  [['services', '*', 'secrets'], mountKey('/run/secrets')],
  [['services', '*', 'env_file'], envFileKey],
];

const MAX_DEPTH = Math.max(...UNIQUE.map(([p]) => p.length));

export function enforceUnicity(n: Node, path: string[] = []): Node {
  // Every rule sits at most MAX_DEPTH deep: below that there is nothing to do.
  if (path.length > MAX_DEPTH) return n;
  if (n.kind === 'map') {
    for (const [k, e] of n.entries) {
      path.push(k);
      e.value = enforceUnicity(e.value, path);
      path.pop();
    }
    return n;
  }
  if (n.kind === 'seq') {
    const rule = UNIQUE.find(([pattern]) => pathMatches(pattern, path));
    const seq = rule ? dedupeList(n, rule[1]) : n;
    path.push('[]');
    seq.items = seq.items.map((item) => enforceUnicity(item, path));
    path.pop();
    return seq;
  }
  return n;
}
