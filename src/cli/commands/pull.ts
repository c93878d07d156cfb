import { Option, type Command } from 'commander';
import { UserError, errorMessage } from '../../util/errors.js';
import type { TransferProgress } from '../../engine/types.js';
import { action, type ComposeContext } from './compose-context.js';
import { openStore } from './image-remote.js';

/**
 * `tscompose pull [SERVICE...]`: pulls the services' images, in parallel,
 * honouring each service's pull_policy (never and build: skipped; missing:
 * only when absent) unless --policy says otherwise. A service that can be
 * built only warns when its image cannot be pulled, as Compose does.
 */

interface PullFlags {
  quiet?: boolean;
  ignorePullFailures?: boolean;
  ignoreBuildable?: boolean;
  includeDeps?: boolean;
  policy?: 'missing' | 'always';
}

export function register(program: Command): void {
  program.command('pull')
    .description('Pull service images')
    .argument('[SERVICE...]')
    .option('-q, --quiet', 'Pull without printing progress information')
    .option('--ignore-pull-failures', 'Pull what it can and ignores images with pull failures')
    .option('--ignore-buildable', 'Ignore images that can be built')
    .option('--include-deps', 'Also pull services declared as dependencies')
    .addOption(new Option('--policy <policy>', 'Apply pull policy').choices(['missing', 'always']))
    .action(action(runPull));
}

async function runPull(ctx: ComposeContext, services: string[], f: PullFlags): Promise<number> {
  const project = await ctx.project();
  const [{ checkServices, serviceDeps }, { imageRef }, { withDependencies }] = await Promise.all([
    import('../../planner/reconcile.js'), import('../../planner/observe.js'), import('../../planner/order.js'),
  ]);
  checkServices(project, services);
  const named = services.length ? services : Object.keys(project.services);
  const selected = f.includeDeps ? [...withDependencies(named, serviceDeps(project))] : named;
  const native = ctx.globals.backend !== 'docker';
  const store = native && !ctx.dryRun ? await openStore(ctx.globals.backend, 'pull') : undefined;
  const engine = native || ctx.dryRun ? undefined : await ctx.engine();
  const present = async (ref: string) => (store ? !!(await store.resolve(ref)) : !!(await engine!.images.inspect(ref)));

  const jobs: { service: string; ref: string; buildable: boolean }[] = [];
  const seen = new Set<string>();
  for (const name of selected) {
    const s = project.services[name]!;
    if (!s.image) continue;
    const buildable = !!s.build;
    if (buildable && f.ignoreBuildable) continue;
    const policy = f.policy ?? s.pull_policy ?? 'always';
    if (policy === 'never' || policy === 'build') continue;
    const ref = imageRef(project, name);
    if (seen.has(ref)) continue;
    seen.add(ref);
    if ((policy === 'missing' || policy === 'if_not_present') && !ctx.dryRun && (await present(ref))) continue;
    jobs.push({ service: name, ref, buildable });
  }
  if (ctx.dryRun) {
    for (const j of jobs) process.stdout.write(`DRY-RUN MODE - pull ${j.ref} (service ${j.service})\n`);
    return 0;
  }
  const bus = await ctx.bus();
  bus.start('Pulling');
  const failures: string[] = [];
  try {
    await Promise.all(jobs.map(async (j) => {
      const id = j.service;
      bus.emit({ id, status: 'working', text: 'Pulling' });
      const onProgress = f.quiet ? undefined : (p: TransferProgress) => {
        if (p.id && p.id !== j.ref.split(':').pop()) bus.emit({ id: p.id, parentId: id, status: /complete|exists/i.test(p.status) ? 'done' : 'working', text: p.status, ...(p.current !== undefined ? { current: p.current } : {}), ...(p.total !== undefined ? { total: p.total } : {}) });
      };
      try {
        if (store) {
          const { pullWithOptions } = await import('../../build/index.js');
          await pullWithOptions(store, j.ref, onProgress ? { onProgress } : {});
        } else {
          await engine!.images.pull(j.ref, onProgress ? { onProgress } : {});
        }
        bus.emit({ id, status: 'done', text: 'Pulled' });
      } catch (err) {
        if (j.buildable) {
          bus.emit({ id, status: 'warning', text: 'Warning', details: `${errorMessage(err)}; it will be built` });
        } else if (f.ignorePullFailures) {
          bus.emit({ id, status: 'warning', text: 'Warning', details: errorMessage(err) });
        } else {
          bus.emit({ id, status: 'error', text: 'Error', details: errorMessage(err) });
          failures.push(`${j.service} (${j.ref}): ${errorMessage(err)}`);
        }
      }
    }));
  } finally {
    bus.stop();
  }
  if (failures.length) throw new UserError(`failed to pull ${failures.length === 1 ? 'an image' : `${failures.length} images`}:\n  ${failures.join('\n  ')}`, 1, 'Use --ignore-pull-failures to pull what can be pulled');
  return 0;
}
