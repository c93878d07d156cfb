import { isIP } from 'node:net';
import { findCycles, formatCycle } from './cycles.js';
import { isObj, type At, type Obj } from './normalize/context.js';
import { nearest } from './suggest.js';
import type { Project, ServiceConfig } from './types.js';

/**
 * Phase 11: rules that relate parts of the model to each other, checked on
 * the enabled services after profiles: every reference resolves (networks,
 * volumes, configs, secrets, services), no dependency cycle, names that
 * must be unique are, and settings that exclude each other are not both set.
 * Each problem is reported at the reference in the user's YAML.
 */
export function checkConsistency(project: Project, raw: Obj, root: At): void {
  const rawServices = isObj(raw.services) ? raw.services : {};
  const containerNames = new Map<string, string>();
  for (const [name, s] of Object.entries(project.services)) {
    const r: Obj = isObj(rawServices[name]) ? (rawServices[name] as Obj) : {};
    const at = root.child('services', name);
    checkImage(s, r, at);
    checkReferences(project, s, r, at);
    checkDependencies(project, s, r, at);
    checkExclusive(s, r, at);
    checkMounts(s, at);
    checkNameLength(project.name, s, at);
    if (s.container_name !== undefined) {
      const other = containerNames.get(s.container_name);
      if (other) at.child('container_name').error(`container_name "${s.container_name}" is already used by service "${other}"; container names must be unique`);
      else containerNames.set(s.container_name, name);
    }
  }
  checkCycles(project, raw, root);
}

function checkImage(s: ServiceConfig, r: Obj, at: At): void {
  if (s.image === undefined && s.build === undefined && s.provider === undefined) {
    at.errorAtKey(`service "${s.name}" has neither an image nor a build context; add \`image:\` or \`build:\``);
  }
  if (s.build?.dockerfile_inline !== undefined && isObj(r.build) && r.build.dockerfile !== undefined) {
    at.child('build', 'dockerfile').errorAtKey(`service "${s.name}" sets both build.dockerfile and build.dockerfile_inline; keep one`);
  }
  if (s.build && s.platform !== undefined && s.build.platforms.length > 0 && !s.build.platforms.includes(s.platform)) {
    at.child('platform').error(`platform ${s.platform} of service "${s.name}" is not one of its build.platforms (${s.build.platforms.join(', ')})`);
  }
}

/** Where a name listed in a list-or-mapping attribute was written: the list item or the mapping key. */
function refAt(r: Obj, at: At, attr: string, name: string): At {
  const v = r[attr];
  if (Array.isArray(v)) {
    const i = v.findIndex((x) => x === name || (isObj(x) && x.source === name));
    return i >= 0 ? at.child(attr, i) : at.child(attr);
  }
  return at.child(attr, name);
}

function undefinedRef(kind: string, name: string, declared: string[], service: string): string {
  const suggestion = nearest(name, declared);
  const hint = suggestion ? `; did you mean "${suggestion}"?` : declared.length ? ` (declared: ${declared.join(', ')})` : `; declare it under the top-level \`${kind}s:\``;
  return `service "${service}" refers to undefined ${kind} "${name}"${hint}`;
}

function checkReferences(project: Project, s: ServiceConfig, r: Obj, at: At): void {
  const networks = Object.keys(project.networks);
  for (const n of Object.keys(s.networks)) {
    if (!(n in project.networks)) {
      const where = refAt(r, at, 'networks', n);
      (Array.isArray(r.networks) ? where.error.bind(where) : where.errorAtKey.bind(where))(undefinedRef('network', n, networks, s.name));
    }
  }
  s.volumes.forEach((v, i) => {
    if (v.type === 'volume' && v.source !== undefined && !(v.source in project.volumes)) {
      at.child('volumes', i).error(undefinedRef('volume', v.source, Object.keys(project.volumes), s.name));
    }
  });
  s.configs.forEach((c, i) => {
    if (!(c.source in project.configs)) at.child('configs', i).error(undefinedRef('config', c.source, Object.keys(project.configs), s.name));
  });
  s.secrets.forEach((c, i) => {
    if (!(c.source in project.secrets)) at.child('secrets', i).error(undefinedRef('secret', c.source, Object.keys(project.secrets), s.name));
  });
  s.build?.secrets.forEach((c, i) => {
    if (!(c.source in project.secrets)) at.child('build', 'secrets', i).error(undefinedRef('secret', c.source, Object.keys(project.secrets), s.name));
  });
  for (const m of Object.keys(s.models)) {
    if (!(m in project.models)) refAt(r, at, 'models', m).error(undefinedRef('model', m, Object.keys(project.models), s.name));
  }
  for (const [n, cfg] of Object.entries(s.networks)) {
    const net = project.networks[n];
    if (!cfg || !net || cfg.ipv4_address === undefined || isIP(cfg.ipv4_address) !== 4) continue;
    const subnets = net.ipam.config.map((p) => p.subnet).filter((x): x is string => x !== undefined && x.includes('.'));
    if (!net.external && subnets.length === 0) {
      at.child('networks', n, 'ipv4_address').error(`ipv4_address needs network "${n}" to declare its subnet (ipam.config[].subnet)`);
    } else if (subnets.length > 0 && !subnets.some((sub) => inSubnet(cfg.ipv4_address!, sub))) {
      at.child('networks', n, 'ipv4_address').error(`ipv4_address ${cfg.ipv4_address} is outside the subnet(s) of network "${n}" (${subnets.join(', ')})`);
    }
  }
}

function checkDependencies(project: Project, s: ServiceConfig, r: Obj, at: At): void {
  const explain = (dep: string, at: At, via: string, onKey = false) => {
    const where = { error: (m: string) => (onKey ? at.errorAtKey(m) : at.error(m)) };
    if (dep === s.name) {
      where.error(`service "${s.name}" depends on itself (${via})`);
      return;
    }
    if (dep in project.services) return;
    const disabled = project.disabledServices[dep];
    if (disabled) {
      if (s.depends_on[dep]?.required === false) return;
      where.error(`service "${s.name}" depends on service "${dep}", which is disabled by its profiles (${disabled.profiles.join(', ')}); enable one with --profile ${disabled.profiles[0]}`);
      return;
    }
    const suggestion = nearest(dep, Object.keys(project.services));
    where.error(`service "${s.name}" ${via} undefined service "${dep}"${suggestion ? `; did you mean "${suggestion}"?` : ''}`);
  };
  const explicit = r.depends_on;
  if (Array.isArray(explicit)) explicit.forEach((d, i) => explain(String(d), at.child('depends_on', i), 'depends on'));
  else if (isObj(explicit)) for (const d of Object.keys(explicit)) explain(d, at.child('depends_on', d), 'depends on', true);
  s.links.forEach((l, i) => explain(l.split(':')[0]!, at.child('links', i), 'links to'));
  s.volumes_from.forEach((v, i) => {
    if (!v.startsWith('container:')) explain(v.split(':')[0]!, at.child('volumes_from', i), 'takes volumes from');
  });
  for (const attr of ['network_mode', 'ipc', 'pid', 'uts', 'cgroup'] as const) {
    const v = s[attr];
    if (v?.startsWith('service:')) explain(v.slice('service:'.length), at.child(attr), `shares the ${attr === 'network_mode' ? 'network' : attr} namespace of`);
  }
  for (const [dep, d] of Object.entries(s.depends_on)) {
    const target = project.services[dep];
    if (!target || d.condition !== 'service_healthy') continue;
    if (!target.healthcheck || target.healthcheck.disable || target.healthcheck.test[0] === 'NONE') {
      at.child('depends_on', dep).warnAtKey(
        `service "${s.name}" waits for "${dep}" to be healthy, but "${dep}" declares no healthcheck: it will only work if its image defines one`,
      );
    }
  }
}

/**
 * A container's name becomes a file name in the engine's state (and Docker's
 * name index): past the kernel's 255-byte limit it could only fail at `up`,
 * half-way through the plan.
 */
export const MAX_CONTAINER_NAME = 255;

function checkNameLength(project: string, s: ServiceConfig, at: At): void {
  if (s.container_name !== undefined) {
    if (Buffer.byteLength(s.container_name) > MAX_CONTAINER_NAME) {
      at.child('container_name').error(`container_name of service "${s.name}" is ${Buffer.byteLength(s.container_name)} characters long; a container name may have at most ${MAX_CONTAINER_NAME}`);
    }
    return;
  }
  const count = s.scale ?? s.deploy?.replicas ?? 1;
  const longest = `${project}-${s.name}-${count}`;
  if (Buffer.byteLength(longest) > MAX_CONTAINER_NAME) {
    at.errorAtKey(`service "${s.name}" would make containers named "${project}-${s.name}-N" (${Buffer.byteLength(longest)} characters); a container name may have at most ${MAX_CONTAINER_NAME}: shorten the service name or the project name`);
  }
}

function checkExclusive(s: ServiceConfig, r: Obj, at: At): void {
  if (s.network_mode !== undefined && r.networks !== undefined) {
    at.child('network_mode').errorAtKey(`service "${s.name}" sets both network_mode and networks; they exclude each other`);
  }
  const replicas = s.deploy?.replicas;
  if (s.scale !== undefined && replicas !== undefined && s.scale !== replicas) {
    at.child('scale').errorAtKey(`service "${s.name}" sets scale ${s.scale} and deploy.replicas ${replicas}; keep one`);
  }
  const count = s.scale ?? replicas ?? 1;
  if (count > 1 && s.container_name !== undefined) {
    at.child('container_name').errorAtKey(`service "${s.name}" has container_name and ${count} replicas, but a container name must be unique; drop container_name`);
  }
  const limits = s.deploy?.resources.limits;
  const pairs: [keyof ServiceConfig, number | undefined, string][] = [
    ['cpus', limits?.cpus, 'deploy.resources.limits.cpus'],
    ['mem_limit', limits?.memory, 'deploy.resources.limits.memory'],
    ['pids_limit', limits?.pids, 'deploy.resources.limits.pids'],
    ['mem_reservation', s.deploy?.resources.reservations?.memory, 'deploy.resources.reservations.memory'],
  ];
  for (const [attr, other, otherName] of pairs) {
    const mine = s[attr] as number | undefined;
    if (mine !== undefined && other !== undefined && mine !== other) {
      at.child(attr).errorAtKey(`service "${s.name}" sets ${attr} and ${otherName} to different values; keep one`);
    }
  }
}

function checkMounts(s: ServiceConfig, at: At): void {
  const targets = new Map<string, string>();
  s.tmpfs.forEach((t, i) => {
    const target = t.split(':')[0]!;
    if (targets.has(target)) at.child('tmpfs', i).error(`${target} is mounted twice (also by ${targets.get(target)})`);
    targets.set(target, `tmpfs[${i}]`);
  });
  s.volumes.forEach((v, i) => {
    if (targets.has(v.target)) at.child('volumes', i).error(`${v.target} is mounted twice (also by ${targets.get(v.target)})`);
    targets.set(v.target, `volumes[${i}]`);
  });
}

function checkCycles(project: Project, raw: Obj, root: At): void {
  const deps = new Map(Object.entries(project.services).map(([n, s]) => [n, Object.keys(s.depends_on).filter((d) => d !== n)]));
  const rawServices = isObj(raw.services) ? raw.services : {};
  for (const cycle of findCycles(deps)) {
    const [from, to] = [cycle[0]!, cycle[1]!];
    const r = isObj(rawServices[from]) ? (rawServices[from] as Obj) : {};
    const at = root.child('services', from);
    const message = `dependency cycle: ${formatCycle(cycle)}`;
    // At the edge that closes the cycle as written: a depends_on entry, else the service.
    if (Array.isArray(r.depends_on)) refAt(r, at, 'depends_on', to).error(message);
    else if (isObj(r.depends_on) && to in r.depends_on) at.child('depends_on', to).errorAtKey(message);
    else at.errorAtKey(message);
  }
}

function inSubnet(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const toInt = (a: string) => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  if (!base || !/^\d+\.\d+\.\d+\.\d+$/.test(ip) || !Number.isInteger(bits)) return true;
  const size = 2 ** (32 - bits);
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(base) / size);
}
