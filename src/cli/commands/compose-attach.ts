import type { ContainerSummary, Engine } from '../../engine/types.js';
import type { LogPrinter } from '../progress/logs.js';

export interface FollowOptions {
  /** Unix seconds: show output from then on. */
  since?: number;
  /** Stop following everything when a container exits (`--abort-on-container-exit`) or fails. */
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

/** How a container is shown in front of its lines: the name without the project prefix, as Compose v2 does. */
export function displayName(c: { name: string; labels: Record<string, string> }, project: string): string {
  return c.name.startsWith(`${project}-`) ? c.name.slice(project.length + 1) : c.name;
}

/**
 * Prints the output of containers as they run and reports each exit
 * ("web-1 exited with code 0"), until all have exited, one exits with
 * `abortOn`, or the signal aborts. A container that restarts (restart
 * policy) is followed again.
 */
export async function follow(engine: Engine, project: string, containers: ContainerSummary[], printer: LogPrinter, o: FollowOptions): Promise<FollowResult> {
  const exitCodes = new Map<string, number>();
  const local = new AbortController();
  const onAbort = () => local.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  let trigger: FollowResult['trigger'];
  for (const c of containers) printer.register(displayName(c, project), c.labels['com.docker.compose.service'] ?? c.name);

  const followOne = async (c: ContainerSummary): Promise<void> => {
    const name = displayName(c, project);
    const service = c.labels['com.docker.compose.service'] ?? c.name;
    let since = o.since;
    for (;;) {
      try {
        for await (const line of engine.containers.logs(c.id, { follow: true, since, signal: local.signal })) printer.line(name, service, line);
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
      printer.event(name, service, `exited with code ${d.exitCode}`);
      if (!trigger && (o.abortOn === 'exit' || (o.abortOn === 'failure' && d.exitCode !== 0))) {
        trigger = { name: c.name, service, exitCode: d.exitCode };
        local.abort();
      }
      return;
    }
  };
  try {
    await Promise.all(containers.map(followOne));
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
  const reason = trigger ? 'abort' : o.signal.aborted ? 'interrupted' : 'all-exited';
  return { reason, trigger, exitCodes };
}
