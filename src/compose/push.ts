import type { Engine, TransferProgress } from '../engine/types.js';
import type { Project } from '../project/types.js';
import { imageRef } from '../planner/observe.js';
import { withDependencies } from '../planner/order.js';
import { checkServices, serviceDeps } from '../planner/reconcile.js';
import { UserError, errorMessage } from '../util/errors.js';
import { Reporter, type ComposeListener } from './progress.js';

export interface PushOptions {
  services?: string[];
  includeDeps?: boolean;
  /** A failed push is a warning, not an error. */
  ignorePushFailures?: boolean;
  quiet?: boolean;
  dryRun?: boolean;
}

/**
 * `push`: the images of the services that build them (the image a build
 * section makes, under its `image:` name), in parallel, as Compose does.
 */
export async function push(engine: Engine, project: Project, o: PushOptions = {}, listener?: ComposeListener): Promise<{ pushed: Array<{ service: string; ref: string; digest?: string }> }> {
  const services = o.services ?? [];
  checkServices(project, services);
  const named = services.length ? services : Object.keys(project.services);
  const selected = o.includeDeps ? [...withDependencies(named, serviceDeps(project))] : named;
  const refs = [...new Map(selected.filter((n) => project.services[n]!.build && project.services[n]!.image).map((n) => [imageRef(project, n), n])).entries()];
  if (o.dryRun) return { pushed: refs.map(([ref, service]) => ({ service, ref })) };
  const report = new Reporter(listener);
  const failures: string[] = [];
  const pushed: Array<{ service: string; ref: string; digest?: string }> = [];
  await report.block('Pushing', () =>
    Promise.all(refs.map(async ([ref, service]) => {
      const id = `Image ${ref}`;
      report.progress({ id, status: 'working', text: 'Pushing' });
      const onProgress = o.quiet ? undefined : (p: TransferProgress) => {
        if (p.id) report.progress({ id: p.id, parentId: id, status: /Pushed|exists|Mounted/.test(p.status) ? 'done' : 'working', text: p.status, ...(p.current !== undefined ? { current: p.current } : {}), ...(p.total !== undefined ? { total: p.total } : {}) });
      };
      try {
        const r = await engine.images.push(ref, onProgress ? { onProgress } : {});
        report.progress({ id, status: 'done', text: 'Pushed', details: r.digest });
        pushed.push({ service, ref, digest: r.digest });
      } catch (err) {
        report.progress({ id, status: o.ignorePushFailures ? 'warning' : 'error', text: o.ignorePushFailures ? 'Warning' : 'Error', details: errorMessage(err) });
        if (!o.ignorePushFailures) failures.push(`${service} (${ref}): ${errorMessage(err)}`);
      }
    })),
  );
  if (failures.length) throw new UserError(`failed to push:\n  ${failures.join('\n  ')}`, 1, 'Use --ignore-push-failures to push what can be pushed');
  return { pushed };
}
