import type { Engine, TransferProgress } from '../engine/types.js';
import type { Project } from '../project/types.js';
import { imageRef } from '../planner/observe.js';
import { withDependencies } from '../planner/order.js';
import { checkServices, serviceDeps } from '../planner/reconcile.js';
import { UserError, errorMessage } from '../util/errors.js';
import { Reporter, type ComposeListener } from './progress.js';

export interface PullOptions {
  services?: string[];
  /** Their dependencies' images too. */
  includeDeps?: boolean;
  /** Over each service's pull_policy. */
  policy?: 'missing' | 'always';
  /** Skip services that can be built. */
  ignoreBuildable?: boolean;
  /** A failed pull is a warning, not an error. */
  ignorePullFailures?: boolean;
  /** Do not report each layer. */
  quiet?: boolean;
  dryRun?: boolean;
}

export interface PullJob {
  service: string;
  ref: string;
}

/**
 * `pull`: the services' images, in parallel, honouring each service's
 * pull_policy (never and build: skipped; missing: only when absent). A
 * service that can be built only warns when its image cannot be pulled, as
 * Compose does. Returns what it pulled (under dryRun: what it would).
 */
export async function pull(engine: Engine, project: Project, o: PullOptions = {}, listener?: ComposeListener): Promise<{ pulled: PullJob[] }> {
  const services = o.services ?? [];
  checkServices(project, services);
  const named = services.length ? services : Object.keys(project.services);
  const selected = o.includeDeps ? [...withDependencies(named, serviceDeps(project))] : named;
  const jobs: Array<PullJob & { buildable: boolean }> = [];
  const seen = new Set<string>();
  for (const name of selected) {
    const s = project.services[name]!;
    if (!s.image) continue;
    const buildable = !!s.build;
    if (buildable && o.ignoreBuildable) continue;
    const policy = o.policy ?? s.pull_policy ?? 'always';
    if (policy === 'never' || policy === 'build') continue;
    const ref = imageRef(project, name);
    if (seen.has(ref)) continue;
    seen.add(ref);
    if ((policy === 'missing' || policy === 'if_not_present') && !o.dryRun && (await engine.images.inspect(ref))) continue;
    jobs.push({ service: name, ref, buildable });
  }
  const pulled = jobs.map(({ service, ref }) => ({ service, ref }));
  if (o.dryRun) return { pulled };
  const report = new Reporter(listener);
  const failures: string[] = [];
  await report.block('Pulling', () =>
    Promise.all(jobs.map(async (j) => {
      const id = j.service;
      report.progress({ id, status: 'working', text: 'Pulling' });
      const onProgress = o.quiet ? undefined : (p: TransferProgress) => {
        if (p.id && p.id !== j.ref.split(':').pop()) report.progress({ id: p.id, parentId: id, status: /complete|exists/i.test(p.status) ? 'done' : 'working', text: p.status, ...(p.current !== undefined ? { current: p.current } : {}), ...(p.total !== undefined ? { total: p.total } : {}) });
      };
      try {
        await engine.images.pull(j.ref, onProgress ? { onProgress } : {});
        report.progress({ id, status: 'done', text: 'Pulled' });
      } catch (err) {
        if (j.buildable) {
          report.progress({ id, status: 'warning', text: 'Warning', details: `${errorMessage(err)}; it will be built` });
        } else if (o.ignorePullFailures) {
          report.progress({ id, status: 'warning', text: 'Warning', details: errorMessage(err) });
        } else {
          report.progress({ id, status: 'error', text: 'Error', details: errorMessage(err) });
          failures.push(`${j.service} (${j.ref}): ${errorMessage(err)}`);
        }
      }
    })),
  );
  if (failures.length) throw new UserError(`failed to pull ${failures.length === 1 ? 'an image' : `${failures.length} images`}:\n  ${failures.join('\n  ')}`, 1, 'Use --ignore-pull-failures to pull what can be pulled');
  return { pulled };
}
