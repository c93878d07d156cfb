import { watch as watchFs, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../engine/types.js';
import type { Project } from '../project/types.js';
import { enableServices } from '../project/profiles.js';
import { execOf, execCapturing } from '../planner/hooks.js';
import { imageRef } from '../planner/observe.js';
import { UserError } from '../util/errors.js';
import { projectContainers } from './containers.js';
import { converge } from './converge.js';
import { restart } from './lifecycle.js';
import { Reporter, type ComposeListener } from './progress.js';
import { compileRules, matchRules, watchedRoots, type WatchRule } from './watch-rules.js';
import { listFiles, syncToContainer, type SyncChange } from './watch-sync.js';

export interface WatchOptions {
  /** The services to watch (all that have develop.watch rules when empty). */
  services?: string[];
  /** `--no-up`: watch what runs; do not build and start the services first. */
  noUp?: boolean;
  /** `--prune`: after a rebuild, remove the image it replaced (when no container uses it). */
  prune?: boolean;
  /** `--quiet`: no build output among the events. */
  quiet?: boolean;
  /** Watching ends when it aborts (the CLI's Ctrl-C). */
  signal: AbortSignal;
  /** Milliseconds without a new change before a burst of changes is applied (default 100). */
  debounceMs?: number;
  /** What watching does, as it does it. */
  onEvent?: (e: WatchEvent) => void;
}

/** What `watch` reports, for the CLI to print (as Compose's lines) or a caller to act on. */
export type WatchEvent =
  | { type: 'watching'; services: string[]; paths: string[] }
  | { type: 'synced'; service: string; container: string; copied: string[]; removed: string[]; initial: boolean }
  /** `since`: Unix seconds when the restart began (the new run's output is from then on). */
  | { type: 'restarted'; service: string; since: number }
  | { type: 'executed'; service: string; container: string; exitCode: number; output: string }
  | { type: 'rebuilding'; service: string; files: string[] }
  /** `since`: Unix seconds when the rebuild began; `pruned`: the images `prune` removed. */
  | { type: 'rebuilt'; service: string; image: string; pruned: string[]; since: number }
  | { type: 'failed'; service: string; action: string; message: string };

/** Longest a burst of changes is held back, however often files keep changing. */
const MAX_WAIT_MS = 1000;

/**
 * The services' watch rules, checked (paths exist, sync+exec has exec,
 * rebuild has a build section, patterns parse) before anything is started.
 */
export function watchRules(project: Project, services: string[] = []): WatchRule[] {
  const rules = compileRules(project, services);
  if (!rules.length) throw new UserError('none of the selected services is configured for watch', 1, "add a develop: { watch: [...] } section to a service");
  for (const r of rules) {
    if (r.trigger.action === 'rebuild' && !project.services[r.service]!.build) {
      throw new UserError(`services.${r.service}.develop.watch: a rebuild rule needs a build section`, 1, `add build: to service ${r.service}, or use action: sync`);
    }
  }
  return rules;
}

/**
 * `watch`: Compose's develop.watch. Starts the services (unless `noUp`),
 * syncs the rules with `initial_sync`, then applies each burst of changes
 * under the rules' paths until `signal` aborts: `sync` copies the changed
 * files into the service's running containers (and removes there what was
 * removed), `sync+restart` then restarts the service (and its dependents),
 * `sync+exec` runs the rule's exec in each container, `restart` restarts,
 * and `rebuild` builds the image and recreates the service's containers.
 * Every rule that holds a changed file applies, in Compose's order (rebuild,
 * sync, restart, exec). A failed action is reported, the rest of that
 * service's burst skipped, and watching goes on.
 * Changes are seen through inotify (fs.watch, recursive), never by polling.
 */
export async function watch(engine: Engine, project: Project, o: WatchOptions, listener?: ComposeListener): Promise<void> {
  const services = o.services ?? [];
  const rules = watchRules(project, services);
  const quietListener: ComposeListener | undefined = o.quiet && listener ? (e) => e.type !== 'output' && listener(e) : listener;
  const report = new Reporter(quietListener);
  const emit = o.onEvent ?? (() => undefined);
  const target = enableServices(project, services);
  if (!o.noUp) await converge(engine, target, { services }, report, 'Running');
  if (o.signal.aborted) return;

  const batches = new Batches(o.debounceMs ?? 100);
  const watchers: FSWatcher[] = [];
  try {
    // Watching begins before the initial sync, so that an edit made meanwhile is not lost.
    for (const root of watchedRoots(rules)) {
      const w = watchFs(root.dir, { recursive: root.recursive }, (_type, name) => {
        if (name) batches.add(join(root.dir, name.toString()));
      });
      w.on('error', (err) => batches.fail(err));
      watchers.push(w);
    }
    const watched = [...new Set(rules.map((r) => r.service))];
    emit({ type: 'watching', services: watched, paths: rules.map((r) => r.trigger.path) });
    // The project with the watched services enabled whatever their profiles: a rebuild converges them.
    const apply = new Applier(engine, target, rules, o, report, quietListener, emit);
    await apply.initialSync();
    for (;;) {
      const files = await batches.next(o.signal);
      if (!files) return;
      for (const service of watched) await apply.burst(service, files);
    }
  } finally {
    for (const w of watchers) w.close();
    batches.close();
  }
}

/** Changed paths gathered into bursts: a burst is ready after `quietMs` without a change, or MAX_WAIT_MS after its first. */
class Batches {
  private pending = new Set<string>();
  private timer?: NodeJS.Timeout;
  private firstAt?: number;
  private ready = false;
  private error?: Error;
  private wake?: () => void;

  constructor(private readonly quietMs: number) {}

  add(path: string): void {
    this.pending.add(path);
    const now = Date.now();
    this.firstAt ??= now;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.release(), Math.min(this.quietMs, Math.max(0, this.firstAt + MAX_WAIT_MS - now)));
  }

  fail(err: Error): void {
    this.error = err;
    this.wake?.();
  }

  private release(): void {
    this.firstAt = undefined;
    this.ready = true;
    this.wake?.();
  }

  /** The next burst's paths, or undefined once `signal` aborted; a watcher's error is thrown. */
  async next(signal: AbortSignal): Promise<string[] | undefined> {
    while (!this.ready && !signal.aborted && !this.error) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          this.wake = undefined;
          resolve();
        };
        this.wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    if (this.error) throw this.error;
    if (signal.aborted) return undefined;
    this.ready = false;
    const files = [...this.pending];
    this.pending.clear();
    return files;
  }

  close(): void {
    clearTimeout(this.timer);
  }
}

/** The actions of the rules, applied to a service's containers. */
class Applier {
  constructor(
    private readonly engine: Engine,
    private readonly project: Project,
    private readonly rules: WatchRule[],
    private readonly o: WatchOptions,
    private readonly report: Reporter,
    private readonly listener: ComposeListener | undefined,
    private readonly emit: (e: WatchEvent) => void,
  ) {}

  /**
   * The rules with initial_sync: the files under their path changed since
   * the service's image was made go into the running containers (Compose's
   * rule: what is older is in the image already, or was left out of it).
   */
  async initialSync(): Promise<void> {
    for (const rule of this.rules) {
      if (!rule.trigger.initial_sync || !rule.trigger.action.startsWith('sync')) continue;
      await this.guard(rule.service, 'sync', async () => {
        const [first] = await this.running(rule.service);
        const created = first ? ((await this.engine.images.inspect(first.imageId))?.created ?? 0) : 0;
        const skip = (host: string) => !matchRules([rule], rule.service, host).length;
        const newer = listFiles(rule.trigger.path, rule.trigger.target!, skip).filter((f) => f.mtimeMs > created);
        if (newer.length) await this.sync(rule.service, newer, true);
      });
    }
  }

  /** A burst, as Compose applies it to a service: rebuild, then sync, then restart, then each sync+exec rule's exec once. */
  async burst(service: string, files: string[]): Promise<void> {
    const matched = files.flatMap((file) => matchRules(this.rules, service, file).map((m) => ({ ...m, file })));
    if (!matched.length) return;
    const actions = new Set(matched.map((m) => m.rule.trigger.action));
    if (actions.has('rebuild') && !(await this.guard(service, 'rebuild', () => this.rebuild(service, matched.map((m) => m.file))))) return;
    const syncs = matched.filter((m) => m.containerPath !== undefined && m.rule.trigger.action.startsWith('sync'));
    // One change per container path: a file two rules sync to the same place goes once.
    const changes = [...new Map(syncs.map((m) => [m.containerPath!, { host: m.file, container: m.containerPath! }])).values()];
    if (changes.length && !(await this.guard(service, 'sync', () => this.sync(service, changes, false)))) return;
    if (actions.has('restart') || actions.has('sync+restart')) {
      await this.guard(service, 'restart', async () => {
        const since = Date.now() / 1000;
        await restart(this.engine, this.project, { services: [service] }, this.listener);
        this.emit({ type: 'restarted', service, since });
      });
    }
    for (const rule of new Set(syncs.filter((m) => m.rule.trigger.action === 'sync+exec').map((m) => m.rule))) {
      await this.guard(service, 'exec', () => this.exec(service, rule));
    }
  }

  /** Runs `work`; a failure is reported and watching goes on. */
  private async guard(service: string, action: string, work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (err) {
      this.emit({ type: 'failed', service, action, message: (err as Error).message });
      return false;
    }
  }

  private async running(service: string) {
    return projectContainers(this.engine, this.project.name, { services: [service], oneoff: false });
  }

  private async sync(service: string, changes: SyncChange[], initial: boolean): Promise<void> {
    // What a synced directory brings is filtered by the rules of the service that cover each file below it.
    const skip = (host: string) => !matchRules(this.rules, service, host).length;
    for (const c of await this.running(service)) {
      const r = await syncToContainer(this.engine, c.id, changes, skip);
      this.emit({ type: 'synced', service, container: c.name, copied: r.copied, removed: r.removed, initial });
    }
  }

  private async exec(service: string, rule: WatchRule): Promise<void> {
    for (const c of await this.running(service)) {
      const r = await execCapturing(this.engine, c.id, execOf(rule.trigger.exec!));
      this.emit({ type: 'executed', service, container: c.name, exitCode: r.exitCode, output: r.output });
      if (r.exitCode !== 0) throw new Error(`${c.name}: the exec of the watch rule exited with status ${r.exitCode}${r.output ? `: ${r.output}` : ''}`);
    }
  }

  /** Builds the service's image and recreates its containers (its dependencies left alone), as Compose's rebuild does. */
  private async rebuild(service: string, files: string[]): Promise<void> {
    const since = Date.now() / 1000;
    this.emit({ type: 'rebuilding', service, files });
    const ref = imageRef(this.project, service);
    const before = (await this.engine.images.inspect(ref))?.id;
    await converge(this.engine, this.project, { services: [service], noDeps: true, build: true, recreate: 'force' }, this.report, 'Rebuilding');
    const after = (await this.engine.images.inspect(ref))?.id ?? '';
    const pruned: string[] = [];
    if (this.o.prune && before && before !== after) {
      // Only the image this rebuild left dangling; one still used by a container stays.
      try {
        pruned.push(...(await this.engine.images.remove(before)).deleted);
      } catch {
        /* in use */
      }
    }
    this.emit({ type: 'rebuilt', service, image: after, pruned, since });
  }
}
