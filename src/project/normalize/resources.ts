import type { FileObjectConfig, IPAMConfig, IPAMPool, ModelConfig, NetworkConfig, VolumeConfig } from '../types.js';
import { assignDefined, extensionsOf, isObj, keyValues, scalarString, type At, type Obj } from './context.js';

/**
 * Top-level networks, volumes, configs, secrets and models to their long
 * form. A resource's engine name is `<project>_<key>` unless it sets `name`
 * or is external (then the name is the key, or `external.name` in the old
 * syntax). An external resource is not ours to create, so attributes that
 * only matter for creating it are errors.
 */

interface External {
  external: boolean;
  legacyName?: string;
}

function external(v: unknown, at: At): External {
  if (v === undefined || v === null) return { external: false };
  if (isObj(v)) {
    const name = v.name === undefined ? undefined : String(v.name);
    if (name !== undefined) at.warn(`external.name is deprecated; write \`name: ${name}\` next to \`external: true\``);
    return { external: true, ...(name !== undefined ? { legacyName: name } : {}) };
  }
  return { external: at.bool(v) ?? false };
}

function resourceName(key: string, o: Obj, ext: External, project: string, at: At, kind: string): string {
  const explicit = o.name === undefined ? undefined : String(o.name);
  if (ext.legacyName !== undefined && explicit !== undefined && explicit !== ext.legacyName) {
    at.child('name').error(`${kind} "${key}": name "${explicit}" and external.name "${ext.legacyName}" differ; keep only name`);
  }
  if (explicit !== undefined) return explicit;
  if (ext.legacyName !== undefined) return ext.legacyName;
  return ext.external ? key : `${project}_${key}`;
}

/** Attributes an external resource may still have (the rest configure its creation). */
const EXTERNAL_ALLOWED = new Set(['name', 'external']);

function checkExternal(kind: string, key: string, o: Obj, ext: External, at: At): void {
  if (!ext.external) return;
  for (const k of Object.keys(o)) {
    if (EXTERNAL_ALLOWED.has(k) || k.startsWith('x-')) continue;
    if (k === 'labels' && kind !== 'network' && kind !== 'volume') continue;
    at.child(k).errorAtKey(`${kind} "${key}" is external (created outside this project), so \`${k}\` cannot be set; remove it or drop external`);
  }
}

function stringMap(v: unknown): Record<string, string> {
  return keyValues(v, '');
}

export function normalizeNetwork(key: string, raw: unknown, project: string, at: At): NetworkConfig {
  const o: Obj = isObj(raw) ? raw : {};
  const ext = external(o.external, at.child('external'));
  checkExternal('network', key, o, ext, at);
  const ipamRaw: Obj = isObj(o.ipam) ? o.ipam : {};
  const pools: IPAMPool[] = (Array.isArray(ipamRaw.config) ? (ipamRaw.config as Obj[]) : []).map((p) => {
    const pool: IPAMPool = { ...extensionsOf(p) };
    return assignDefined(pool, {
      subnet: p.subnet as string | undefined,
      gateway: p.gateway as string | undefined,
      ip_range: p.ip_range as string | undefined,
      aux_addresses: p.aux_addresses === undefined ? undefined : stringMap(p.aux_addresses),
    });
  });
  const n: NetworkConfig = {
    name: resourceName(key, o, ext, project, at, 'network'),
    driver_opts: stringMap(o.driver_opts),
    ipam: assignDefined<IPAMConfig>({ config: pools, options: stringMap(ipamRaw.options), ...extensionsOf(ipamRaw) }, { driver: ipamRaw.driver as string | undefined }),
    external: ext.external,
    internal: at.child('internal').bool(o.internal) ?? false,
    attachable: at.child('attachable').bool(o.attachable) ?? false,
    labels: stringMap(o.labels),
    ...extensionsOf(o),
  };
  return assignDefined(n, {
    driver: o.driver as string | undefined,
    enable_ipv4: at.child('enable_ipv4').bool(o.enable_ipv4),
    enable_ipv6: at.child('enable_ipv6').bool(o.enable_ipv6),
  });
}

export function normalizeVolume(key: string, raw: unknown, project: string, at: At): VolumeConfig {
  const o: Obj = isObj(raw) ? raw : {};
  const ext = external(o.external, at.child('external'));
  checkExternal('volume', key, o, ext, at);
  const driverOpts = stringMap(o.driver_opts);
  // A local volume bound to a host directory: a relative device is relative to the project, as for bind mounts.
  if ((o.driver === undefined || o.driver === 'local') && /(^|,)bind(,|$)/.test(driverOpts.o ?? '') && driverOpts.device?.startsWith('.')) {
    driverOpts.device = at.child('driver_opts', 'device').absPath(driverOpts.device);
  }
  const v: VolumeConfig = {
    name: resourceName(key, o, ext, project, at, 'volume'),
    driver_opts: driverOpts,
    external: ext.external,
    labels: stringMap(o.labels),
    ...extensionsOf(o),
  };
  return assignDefined(v, { driver: o.driver as string | undefined });
}

/** configs and secrets: exactly one source (file, environment, or for configs inline content), unless external. */
export function normalizeFileObject(kind: 'config' | 'secret', key: string, raw: unknown, project: string, at: At): FileObjectConfig {
  const o: Obj = isObj(raw) ? raw : {};
  const ext = external(o.external, at.child('external'));
  const sources = kind === 'config' ? ['file', 'environment', 'content'] : ['file', 'environment'];
  const given = sources.filter((s) => o[s] !== undefined);
  if (given.length > 1) {
    at.error(`${kind} "${key}" sets ${given.join(' and ')}; set exactly one of ${sources.join(', ')}`);
  } else if (given.length === 0 && !ext.external && o.driver === undefined) {
    at.errorAtKey(`${kind} "${key}" needs one of ${sources.join(', ')} (or external: true)`);
  }
  if (ext.external && given.length > 0) at.child(given[0]!).errorAtKey(`${kind} "${key}" is external, so \`${given[0]}\` cannot be set`);
  const f: FileObjectConfig = {
    name: resourceName(key, o, ext, project, at, kind),
    external: ext.external,
    labels: stringMap(o.labels),
    ...extensionsOf(o),
  };
  return assignDefined(f, {
    file: o.file === undefined ? undefined : at.child('file').absPath(scalarString(o.file)),
    environment: o.environment === undefined ? undefined : scalarString(o.environment),
    content: o.content === undefined ? undefined : scalarString(o.content),
    driver: o.driver as string | undefined,
    driver_opts: o.driver_opts === undefined ? undefined : stringMap(o.driver_opts),
    template_driver: o.template_driver as string | undefined,
  });
}

export function normalizeModel(raw: unknown): ModelConfig {
  const o: Obj = isObj(raw) ? raw : {};
  const m: ModelConfig = { model: String(o.model), ...extensionsOf(o) };
  return assignDefined(m, {
    name: o.name as string | undefined,
    context_size: typeof o.context_size === 'number' ? o.context_size : undefined,
    runtime_flags: Array.isArray(o.runtime_flags) ? o.runtime_flags.map(scalarString) : undefined,
  });
}
