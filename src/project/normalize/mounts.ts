import { posix } from 'node:path';
import { isIP } from 'node:net';
import { parsePortRange, parsePortString, PortSyntaxError, PROTOCOLS, rangeText } from '../syntax/ports.js';
import { parseVolumeString, VolumeSyntaxError } from '../syntax/volumes.js';
import type { DeviceMapping, ServiceFileReference, ServicePortConfig, ServiceVolumeConfig, VolumeType } from '../types.js';
import { assignDefined, extensionsOf, isObj, scalarString, type At, type Obj } from './context.js';

/** ports, volumes, devices, configs/secrets references: the short syntaxes to their long form. */

export function normalizePorts(v: unknown, at: At): ServicePortConfig[] {
  if (!Array.isArray(v)) return [];
  const out: ServicePortConfig[] = [];
  v.forEach((item, i) => {
    const here = at.child(i);
    if (isObj(item)) {
      const p = longPort(item, here);
      if (p) out.push(p);
      return;
    }
    try {
      out.push(...parsePortString(scalarString(item)));
    } catch (err) {
      if (!(err instanceof PortSyntaxError)) throw err;
      here.error(`invalid port ${err.message}`);
    }
  });
  return out;
}

function longPort(o: Obj, at: At): ServicePortConfig | undefined {
  if (o.target === undefined) {
    at.error('a port in the long syntax needs a `target` (the container port)');
    return undefined;
  }
  const target = at.child('target').number(o.target, 'integer');
  if (target === undefined) return undefined;
  if (target < 1 || target > 65535) {
    at.child('target').error(`target port ${target} is out of range (1-65535)`);
    return undefined;
  }
  const p = { mode: o.mode === undefined ? 'ingress' : String(o.mode) } as ServicePortConfig;
  if (p.mode !== 'ingress' && p.mode !== 'host') at.child('mode').error(`port mode must be ingress or host, not "${p.mode}"`);
  if (o.host_ip !== undefined) {
    const ip = String(o.host_ip).replace(/^\[(.*)\]$/, '$1');
    if (isIP(ip) === 0) at.child('host_ip').error(`"${ip}" is not an IP address`);
    p.host_ip = ip;
  }
  p.target = target;
  if (o.published !== undefined && o.published !== '') {
    const text = String(o.published);
    try {
      p.published = rangeText(parsePortRange(text, text, 'published port', 0));
    } catch (err) {
      if (!(err instanceof PortSyntaxError)) throw err;
      at.child('published').error(`invalid published port ${err.message}`);
    }
  }
  p.protocol = o.protocol === undefined ? 'tcp' : String(o.protocol).toLowerCase();
  if (!PROTOCOLS.includes(p.protocol)) at.child('protocol').error(`unknown protocol "${String(o.protocol)}" (use tcp, udp or sctp)`);
  if (o.name !== undefined) p.name = String(o.name);
  if (o.app_protocol !== undefined) p.app_protocol = String(o.app_protocol);
  return Object.assign(p, extensionsOf(o));
}

export function normalizeExpose(v: unknown, at: At): string[] {
  if (!Array.isArray(v)) return [];
  return v.map((item, i) => {
    const s = scalarString(item);
    if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(s)) at.child(i).error(`expose: "${s}" is not a port, a range or port/protocol`);
    return s;
  });
}

export function normalizeVolumes(v: unknown, at: At): ServiceVolumeConfig[] {
  if (!Array.isArray(v)) return [];
  const out: ServiceVolumeConfig[] = [];
  v.forEach((item, i) => {
    const here = at.child(i);
    const vol = isObj(item) ? longVolume(item, here) : shortVolume(scalarString(item), here);
    if (vol) out.push(vol);
  });
  return out;
}

function shortVolume(spec: string, at: At): ServiceVolumeConfig | undefined {
  let s;
  try {
    s = parseVolumeString(spec);
  } catch (err) {
    if (!(err instanceof VolumeSyntaxError)) throw err;
    at.error(`invalid volume ${err.message}`);
    return undefined;
  }
  if (s.unknownOptions.length) at.warn(`volume "${spec}": unknown option(s) ${s.unknownOptions.join(', ')} ignored`);
  if (!posix.isAbsolute(s.target)) {
    at.error(`volume "${spec}": the mount point ${s.target} must be an absolute path in the container`);
    return undefined;
  }
  const vol = { type: s.type } as ServiceVolumeConfig;
  if (s.source !== undefined) vol.source = s.type === 'bind' ? at.absPath(s.source) : s.source;
  vol.target = cleanPath(s.target);
  vol.read_only = s.read_only;
  if (s.type === 'bind') {
    vol.bind = { create_host_path: true };
    assignDefined(vol.bind, { propagation: s.propagation, selinux: s.selinux });
  } else {
    vol.volume = { nocopy: s.nocopy };
  }
  return vol;
}

const VOLUME_TYPES: VolumeType[] = ['bind', 'volume', 'tmpfs', 'npipe', 'cluster', 'image'];

function longVolume(o: Obj, at: At): ServiceVolumeConfig | undefined {
  const type = String(o.type) as VolumeType;
  if (!VOLUME_TYPES.includes(type)) return undefined; // the schema reported it
  if (typeof o.target !== 'string' || o.target === '') {
    at.error(`a ${type} mount needs a \`target\` (the mount point in the container)`);
    return undefined;
  }
  if (!posix.isAbsolute(o.target) && type !== 'npipe') {
    at.child('target').error(`the mount point ${o.target} must be an absolute path in the container`);
    return undefined;
  }
  const vol = { type } as ServiceVolumeConfig;
  if (o.source !== undefined && o.source !== '') {
    vol.source = type === 'bind' ? at.child('source').absPath(String(o.source)) : String(o.source);
  } else if (type === 'bind' || type === 'image') {
    at.error(`a ${type} mount needs a \`source\``);
    return undefined;
  }
  if (type === 'tmpfs' && vol.source !== undefined) at.child('source').error('a tmpfs mount takes no `source`');
  vol.target = cleanPath(o.target);
  vol.read_only = at.child('read_only').bool(o.read_only) ?? false;
  if (o.consistency !== undefined) vol.consistency = String(o.consistency);
  if (isObj(o.bind)) {
    const b = o.bind;
    vol.bind = { create_host_path: at.child('bind', 'create_host_path').bool(b.create_host_path) ?? true, ...extensionsOf(b) };
    assignDefined(vol.bind, {
      propagation: b.propagation as string | undefined,
      selinux: b.selinux as 'z' | 'Z' | undefined,
      recursive: b.recursive as 'enabled' | undefined,
    });
  } else if (type === 'bind') {
    vol.bind = { create_host_path: true };
  }
  if (isObj(o.volume)) {
    const v = o.volume;
    vol.volume = { nocopy: at.child('volume', 'nocopy').bool(v.nocopy) ?? false, ...extensionsOf(v) };
    if (v.subpath !== undefined) vol.volume.subpath = String(v.subpath);
    if (v.labels !== undefined) vol.volume.labels = Object.fromEntries(Object.entries(v.labels as Obj).map(([k, x]) => [k, scalarString(x)]));
  } else if (type === 'volume') {
    vol.volume = { nocopy: false };
  }
  if (isObj(o.tmpfs)) {
    const t = o.tmpfs;
    vol.tmpfs = { ...extensionsOf(t) };
    const size = at.child('tmpfs', 'size').bytes(t.size);
    if (size !== undefined) vol.tmpfs.size = size;
    const mode = fileMode(t.mode, at.child('tmpfs', 'mode'));
    if (mode !== undefined) vol.tmpfs.mode = mode;
  }
  if (isObj(o.image)) vol.image = { ...(o.image.subpath !== undefined ? { subpath: String(o.image.subpath) } : {}), ...extensionsOf(o.image) };
  return Object.assign(vol, extensionsOf(o));
}

/** Like Go's path.Clean: normalized, without a trailing slash. */
function cleanPath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** File modes: numbers as written (YAML 0440 is already octal), strings as octal. */
export function fileMode(v: unknown, at: At): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  const s = String(v);
  if (!/^0?[0-7]+$/.test(s) && !/^0o[0-7]+$/i.test(s)) {
    at.error(`"${s}" is not a file mode (write it in octal, like 0440)`);
    return undefined;
  }
  return parseInt(s.replace(/^0o/i, ''), 8);
}

export function normalizeDevices(v: unknown, at: At): DeviceMapping[] {
  if (!Array.isArray(v)) return [];
  const out: DeviceMapping[] = [];
  v.forEach((item, i) => {
    if (isObj(item)) {
      const source = String(item.source);
      out.push({ source, target: item.target !== undefined ? String(item.target) : source, permissions: item.permissions !== undefined ? String(item.permissions) : 'rwm', ...extensionsOf(item) });
      return;
    }
    const parts = scalarString(item).split(':');
    if (parts.length > 3 || parts.some((p) => p === '')) {
      at.child(i).error(`device "${scalarString(item)}" is not SOURCE[:TARGET[:PERMISSIONS]]`);
      return;
    }
    let [source, target, permissions] = parts as [string, string?, string?];
    // A two-part string whose second part is a permission string (rwm) has no target.
    if (target !== undefined && permissions === undefined && /^[rwm]+$/.test(target)) {
      permissions = target;
      target = undefined;
    }
    out.push({ source, target: target ?? source, permissions: permissions ?? 'rwm' });
  });
  return out;
}

/** configs: and secrets: of a service (`- name` or the long form); secrets default to /run/secrets/<name>. */
export function normalizeFileRefs(v: unknown, at: At, defaultDir?: string): ServiceFileReference[] {
  if (!Array.isArray(v)) return [];
  const out: ServiceFileReference[] = [];
  v.forEach((item, i) => {
    const here = at.child(i);
    const o: Obj = isObj(item) ? item : { source: scalarString(item) };
    if (typeof o.source !== 'string' || o.source === '') {
      here.error('a reference needs a `source` (the name of a top-level config or secret)');
      return;
    }
    const ref: ServiceFileReference = { source: o.source };
    if (o.target !== undefined) ref.target = String(o.target);
    else if (defaultDir !== undefined) ref.target = `${defaultDir}/${o.source}`;
    if (defaultDir !== undefined && ref.target !== undefined && !ref.target.startsWith('/')) ref.target = `${defaultDir}/${ref.target}`;
    if (o.uid !== undefined) ref.uid = String(o.uid);
    if (o.gid !== undefined) ref.gid = String(o.gid);
    const mode = fileMode(o.mode, here.child('mode'));
    if (mode !== undefined) ref.mode = mode;
    out.push(Object.assign(ref, extensionsOf(o)));
  });
  return out;
}
