import type { Project } from '../project/types.js';
import { UserError } from '../util/errors.js';

/**
 * Two services of the project publishing the same host port: a valid file
 * (compose-go loads and prints it), but `up` could start only the first of
 * them, so it refuses before creating anything. Addresses overlap when they
 * are equal or either is unspecified (every address). Only single ports are
 * compared: a range lets the engine pick a free port in it.
 */
export function checkPortConflicts(project: Project, services: string[]): void {
  const taken: Array<{ service: string; ip: string; port: string; protocol: string }> = [];
  const clashes: string[] = [];
  for (const name of [...new Set(services)].sort()) {
    for (const p of project.services[name]?.ports ?? []) {
      if (p.published === undefined || !/^\d+$/.test(p.published)) continue;
      const ip = p.host_ip && p.host_ip !== '0.0.0.0' && p.host_ip !== '::' ? p.host_ip : '';
      const other = taken.find((t) => t.port === p.published && t.protocol === p.protocol && t.service !== name && (t.ip === '' || ip === '' || t.ip === ip));
      if (other) clashes.push(`services ${other.service} and ${name} both publish port ${p.published}/${p.protocol} on ${ip || other.ip || 'all addresses'}`);
      else taken.push({ service: name, ip, port: p.published, protocol: p.protocol });
    }
  }
  if (clashes.length) throw new UserError(clashes.join('\n'), 1, 'give each service its own host port (or a host_ip of its own); nothing was created');
}
