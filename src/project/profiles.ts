import type { Diagnostics } from './diagnostics.js';
import type { At } from './normalize/context.js';
import type { Project, ServiceConfig } from './types.js';

/**
 * Phase 13: profiles and service selection. A service with no `profiles`
 * is always enabled; one with profiles only when one of them is active
 * (`--profile`, COMPOSE_PROFILES; `*` enables all). Services named on the
 * command line are enabled whatever their profiles, with what they depend on.
 */
export function applyProfiles(project: Project, profiles: string[]): Project {
  const services: Record<string, ServiceConfig> = {};
  const disabledServices: Record<string, ServiceConfig> = {};
  for (const [name, s] of Object.entries(project.services)) {
    const enabled = s.profiles.length === 0 || profiles.includes('*') || s.profiles.some((p) => profiles.includes(p));
    (enabled ? services : disabledServices)[name] = s;
  }
  return { ...project, services, disabledServices, profiles: [...profiles] };
}

export function selectServices(project: Project, names: string[], diags: Diagnostics, root: At): Project {
  const all = { ...project.services, ...project.disabledServices };
  const selected = new Set<string>();
  const visit = (n: string) => {
    if (selected.has(n) || !all[n]) return;
    selected.add(n);
    for (const [dep, d] of Object.entries(all[n]!.depends_on)) {
      if (project.services[dep] || d.required) visit(dep);
    }
  };
  for (const n of names) {
    if (!all[n]) diags.error(root.src, `no such service: ${n}`);
    visit(n);
  }
  const services: Record<string, ServiceConfig> = {};
  const disabledServices: Record<string, ServiceConfig> = {};
  for (const [n, s] of Object.entries(all)) (selected.has(n) ? services : disabledServices)[n] = s;
  return { ...project, services, disabledServices };
}

/** Networks, volumes, configs and secrets that no enabled service uses are dropped, as Docker Compose does. */
export function withoutUnusedResources(project: Project): Project {
  const networks = new Set<string>();
  const volumes = new Set<string>();
  const configs = new Set<string>();
  const secrets = new Set<string>();
  for (const s of Object.values(project.services)) {
    for (const n of Object.keys(s.networks)) networks.add(n);
    for (const v of s.volumes) if (v.type === 'volume' && v.source) volumes.add(v.source);
    for (const c of s.configs) configs.add(c.source);
    for (const c of s.secrets) secrets.add(c.source);
    for (const c of s.build?.secrets ?? []) secrets.add(c.source);
  }
  const keep = <T>(rec: Record<string, T>, used: Set<string>) => Object.fromEntries(Object.entries(rec).filter(([k]) => used.has(k)));
  return {
    ...project,
    networks: keep(project.networks, networks),
    volumes: keep(project.volumes, volumes),
    configs: keep(project.configs, configs),
    secrets: keep(project.secrets, secrets),
  };
}

/**
 * A service named by a verb runs whatever its profiles, and so do the
 * disabled services it depends on (Compose: "services explicitly targeted
 * are enabled"). The project is returned unchanged when none is disabled.
 */
export function enableServices(project: Project, names: readonly string[]): Project {
  const stack = names.filter((n) => project.disabledServices[n]);
  if (!stack.length) return project;
  const services = { ...project.services };
  const disabled = { ...project.disabledServices };
  while (stack.length) {
    const n = stack.pop()!;
    const s = disabled[n];
    if (!s) continue;
    services[n] = s;
    delete disabled[n];
    for (const dep of Object.keys(s.depends_on)) if (disabled[dep]) stack.push(dep);
  }
  return { ...project, services, disabledServices: disabled };
}
