import type { ContainerSummary, Engine } from '../engine/types.js';
import { Label } from '../planner/labels.js';
import { displayName } from './containers.js';
import type { LogConsumer, LogSource } from './logs-consumer.js';

export interface FollowOptions {
  /** Unix seconds: output from then on. */
  since?: number;
  /** Stop following everything when a container exits (`--abort-on-container-exit`), or exits with a failure. */
  abortOn?: 'exit' | 'failure';
  signal: AbortSignal;
}

export interface FollowResult {
  /** Why following ended. */
  reason: 'all-exited' | 'abort' | 'interrupted';
  /** The container whose exit caused an abort. */
  trigger?: { name: string; service: string; exitCode: number };
  exitCodes: Map<string, number>;
}

export function logSource(c: ContainerSummary, project: string): LogSource {
  return { id: c.id, container: c.name, name: displayName(c, project), service: c.labels[Label.service] ?? c.name };
}

/**
 * Passes the output of containers on as they run and reports each exit,
 * until all have exited, one exits with `abortOn`, or the signal aborts. A
 * container that restarts (restart policy) is followed again.
 */
export async function follow(engine: Engine, project: string, containers: ContainerSummary[], consumer: LogConsumer, o: FollowOptions): Promise<FollowResult> {
  const exitCodes = new Map<string, number>();
  const local = new AbortController();
  const onAbort = () => local.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  let trigger: FollowResult['trigger'];
  const sources = containers.map((c) => logSource(c, project));
  if (!o.signal.aborted) consumer.start?.(sources);

  const followOne = async (c: ContainerSummary, source: LogSource): Promise<void> => {
    let since = o.since;
    for (;;) {
      try {
        for await (const line of engine.containers.logs(c.id, { follow: true, since, signal: local.signal })) consumer.line(source, line);
      } catch (err) {
        if (local.signal.aborted) return;
        throw err;
      }
      if (local.signal.aborted) return;
      const d = await engine.containers.inspect(c.id);
      if (!d) return;
      if (d.state === 'running' || d.state === 'restarting') {
        // Restarted by its policy: follow its next run.
        since = Date.now() / 1000;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      exitCodes.set(c.id, d.exitCode);
      consumer.exited?.(source, d.exitCode);
      if (!trigger && (o.abortOn === 'exit' || (o.abortOn === 'failure' && d.exitCode !== 0))) {
        trigger = { name: c.name, service: source.service, exitCode: d.exitCode };
        local.abort();
      }
      return;
    }
  };
  try {
    await Promise.all(containers.map((c, i) => followOne(c, sources[i]!)));
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
  const reason = trigger ? 'abort' : o.signal.aborted ? 'interrupted' : 'all-exited';
  return { reason, trigger, exitCodes };
}
