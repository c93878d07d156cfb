import type { ContainerSummary, Engine, EngineEvent, EngineInfo, EventFilter } from '../../types.js';
import { NotFoundError, UserError } from '../../../util/errors.js';
import { VERSION } from '../../../util/version.js';
import { ENGINE_TOOLS, requireTools } from '../../../util/host-tools.js';
import { helperDir } from '../runtime/helper.js';
import { EngineDeps } from './deps.js';
import { NativeContainers } from './containers.js';
import { NativeVolumes } from './volumes.js';
import { NativeImages } from './images.js';
import { NativeNetworks } from './networks.js';
import { ociArchitecture } from '../image/oci.js';
import { followJournal, matchesFilter } from './events.js';

/**
 * The Engine on tscompose's own engine: the image store, the container
 * runtime and the network (src/network), composed with Docker's semantics,
 * and a supervisor in the long-lived daemon for healthchecks, restart
 * policies and --rm. Every part is opened on first use.
 */
export class NativeEngine implements Engine {
  readonly backend = 'native' as const;
  readonly containers: NativeContainers;
  readonly networks: NativeNetworks;
  readonly volumes: NativeVolumes;
  readonly images: NativeImages;

  constructor(readonly deps: EngineDeps = new EngineDeps()) {
    this.containers = new NativeContainers(deps);
    this.networks = new NativeNetworks((ref) => this.containerName(ref), () => deps.network());
    this.volumes = new NativeVolumes(deps);
    this.images = new NativeImages(deps);
  }

  /**
   * A container by name or id for the network calls: the runtime's, or one
   * that only the network's records know (the network module's own tests
   * attach namespaces of no runtime container; `network connect` and
   * `disconnect` have always found those by their endpoints).
   */
  private async containerName(ref: string): Promise<{ id: string; name: string }> {
    const rt = await this.deps.runtime();
    try {
      const id = rt.resolve(ref);
      return { id, name: (await rt.inspect(id)).Name.replace(/^\//, '') };
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      const attached = (await this.deps.network()).findAttachedContainer(ref);
      if (!attached) throw err;
      return { id: attached.containerId, name: attached.containerName };
    }
  }

  async info(): Promise<EngineInfo> {
    return { backend: 'native', name: 'tscompose native engine', version: VERSION, os: 'linux', arch: ociArchitecture() };
  }

  /**
   * Events from the journal every process of ours appends to, plus `die`
   * for containers that exit while we follow (running ones matching the
   * filter, and those the journal says start).
   */
  async *events(filter: EventFilter, signal: AbortSignal): AsyncIterable<EngineEvent> {
    const queue: EngineEvent[] = [];
    let wake: (() => void) | undefined;
    const push = (e: EngineEvent) => {
      if (!matchesFilter(e, filter)) return;
      queue.push(e);
      wake?.();
    };
    const watching = new Set<string>();
    /** Containers seen running while we follow, and those whose die was reported for the run at hand (never twice). */
    const seen = new Set<string>();
    const died = new Set<string>();
    const wantsDie = !filter.types?.length || filter.types.includes('container');
    const die = (id: string, exitCode: number, attributes: Record<string, string>) => {
      if (died.has(id)) return;
      died.add(id);
      push({ time: Date.now(), type: 'container', action: 'die', id, attributes: { ...attributes, exitCode: String(exitCode) } });
    };
    const watchDie = (c: Pick<ContainerSummary, 'id'>, attributes: Record<string, string>) => {
      if (!wantsDie || watching.has(c.id)) return;
      watching.add(c.id);
      seen.add(c.id);
      died.delete(c.id);
      this.containers.wait(c.id, 'not-running', stop.signal).then(
        ({ exitCode }) => die(c.id, exitCode, attributes),
        () => undefined,
      ).finally(() => watching.delete(c.id));
    };
    // `until`: the stream ends when the journal is read up to it (the follower ends), whatever the caller's signal.
    const stop = new AbortController();
    const forward = () => stop.abort();
    signal.addEventListener('abort', forward, { once: true });
    if (signal.aborted) stop.abort();
    let followed = false;
    const follower = (async () => {
      for await (const e of followJournal(stop.signal, filter.since, filter.until)) {
        if (filter.until !== undefined && e.time > filter.until) break;
        if (filter.since !== undefined && e.time < filter.since) continue;
        const { exitCode, ...event } = e;
        // A container removed before its watcher saw it exit (run --rm): its die comes first, from the destroy's record.
        if (event.type === 'container' && event.action === 'destroy' && exitCode !== undefined && seen.has(event.id)) die(event.id, exitCode, event.attributes);
        push(event);
        if (event.type === 'container' && event.action === 'start') watchDie({ id: event.id }, event.attributes);
      }
    })()
      .catch(() => undefined)
      .finally(() => {
        followed = true;
        wake?.();
      });
    if (wantsDie) {
      for (const c of await this.containers.list({ ...(filter.labels ? { labels: filter.labels } : {}) })) {
        watchDie(c, { ...c.labels, name: c.name, image: c.image });
      }
    }
    const onAbort = () => wake?.();
    stop.signal.addEventListener('abort', onAbort);
    try {
      while (!stop.signal.aborted) {
        const next = queue.shift();
        if (next) {
          if (filter.until !== undefined && next.time > filter.until) return;
          yield next;
          continue;
        }
        if (followed && filter.until !== undefined) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      signal.removeEventListener('abort', forward);
      stop.signal.removeEventListener('abort', onAbort);
      stop.abort();
      await follower;
    }
  }

  async close(): Promise<void> {
    // Nothing is held open between calls (state is on disk and in the kernel), but stops may have
    // left their network release to removals that never came.
    await this.containers.settleStops();
  }
}

/**
 * The native Engine, once the host has what it needs: root, a helper built
 * for this machine, and the host programs of ENGINE_TOOLS (each missing one
 * named with its Debian/Ubuntu package). Checked here, when a command first
 * needs the engine and before it makes anything: the parts open lazily and a
 * plan runs side by side, so a later check could come after a volume was
 * made. The kernel is checked when the runtime opens (runtime/kernel.ts).
 */
export async function openNativeEngine(): Promise<NativeEngine> {
  if (process.getuid?.() !== 0) {
    throw new UserError('the native engine needs root: containers are made of namespaces, cgroups and mounts', 1, 'run as root, or use --backend docker');
  }
  helperDir();
  requireTools(ENGINE_TOOLS);
  return new NativeEngine();
}
