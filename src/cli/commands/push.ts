import type { Command } from 'commander';
import { UserError, errorMessage } from '../../util/errors.js';
import type { TransferProgress } from '../../engine/types.js';
import { action, type ComposeContext } from './compose-context.js';
import { openStore } from './image-remote.js';

/**
 * `tscompose push [SERVICE...]`: pushes the images of the services that
 * build them (the image a build section makes, under its `image:` name), as
 * Compose does. The native engine's images only: the Engine interface has
 * no push for a Docker Engine.
 */

interface PushFlags {
  quiet?: boolean;
  ignorePushFailures?: boolean;
  includeDeps?: boolean;
}

export function register(program: Command): void {
  program.command('push')
    .description('Push service images')
    .argument('[SERVICE...]')
    .option('-q, --quiet', 'Push without printing progress information')
    .option('--ignore-push-failures', 'Push what it can and ignores images with push failures')
    .option('--include-deps', 'Also push images of services declared as dependencies')
    .action(action(runPush));
}

async function runPush(ctx: ComposeContext, services: string[], f: PushFlags): Promise<number> {
  if (ctx.globals.backend === 'docker') {
    throw new UserError('tscompose push works on the native engine\'s images', 1, 'With a Docker Engine, use docker compose push (or docker push)');
  }
  const project = await ctx.project();
  const [{ checkServices, serviceDeps }, { imageRef }, { withDependencies }] = await Promise.all([
    import('../../planner/reconcile.js'), import('../../planner/observe.js'), import('../../planner/order.js'),
  ]);
  checkServices(project, services);
  const named = services.length ? services : Object.keys(project.services);
  const selected = f.includeDeps ? [...withDependencies(named, serviceDeps(project))] : named;
  const refs = [...new Map(selected.filter((n) => project.services[n]!.build && project.services[n]!.image).map((n) => [imageRef(project, n), n])).entries()];
  if (ctx.dryRun) {
    for (const [ref, service] of refs) process.stdout.write(`DRY-RUN MODE - push ${ref} (service ${service})\n`);
    return 0;
  }
  const store = await openStore(ctx.globals.backend, 'push');
  const { pushImage } = await import('../../engine/native/registry/index.js');
  const bus = await ctx.bus();
  bus.start('Pushing');
  const failures: string[] = [];
  try {
    await Promise.all(refs.map(async ([ref, service]) => {
      const id = `Image ${ref}`;
      bus.emit({ id, status: 'working', text: 'Pushing' });
      const onProgress = f.quiet ? undefined : (p: TransferProgress) => {
        if (p.id) bus.emit({ id: p.id, parentId: id, status: /Pushed|exists|Mounted/.test(p.status) ? 'done' : 'working', text: p.status, ...(p.current !== undefined ? { current: p.current } : {}), ...(p.total !== undefined ? { total: p.total } : {}) });
      };
      try {
        const r = await pushImage(store, ref, onProgress ? { onProgress } : {});
        bus.emit({ id, status: 'done', text: 'Pushed', details: r.digest });
      } catch (err) {
        bus.emit({ id, status: f.ignorePushFailures ? 'warning' : 'error', text: f.ignorePushFailures ? 'Warning' : 'Error', details: errorMessage(err) });
        if (!f.ignorePushFailures) failures.push(`${service} (${ref}): ${errorMessage(err)}`);
      }
    }));
  } finally {
    bus.stop();
  }
  if (failures.length) throw new UserError(`failed to push:\n  ${failures.join('\n  ')}`, 1, 'Use --ignore-push-failures to push what can be pushed');
  return 0;
}
