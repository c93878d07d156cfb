import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { UserError } from '../util/errors.js';

/**
 * Waiting, after `up` wrote the stack's services, until the swarm runs what
 * they say: every task the manager wants running runs the current spec (the
 * manager's `_up-to-date` task filter, the one `docker service update`'s
 * progress uses), as many as the service asks, and no rolling update is still
 * under way. A paused or rolled-back update fails with its reason: the
 * services are then not what the file says, and the user must know.
 */

export interface ConvergeProgress {
  service: string;
  /** Tasks running the current spec. */
  running: number;
  /** Tasks the service asks for (replicas; for a global service, the tasks the manager placed). */
  desired: number;
}

export interface ConvergeOptions {
  /** Give up after this long (ms) with a sentence naming what has not converged. */
  timeoutMs: number;
  /** Called when a service's count of tasks running its current spec changes. */
  onProgress?: (p: ConvergeProgress) => void;
  /** Between two looks at the manager (ms; 200 by default: three cheap requests per service). */
  pollMs?: number;
}

interface ServiceState {
  name: string;
  done: boolean;
  running: number;
  desired: number;
}

/** Waits until every service of `ids` has converged; throws a UserError on a paused/rolled-back update or the timeout. */
export async function waitConverged(docker: Dockerode, ids: readonly string[], o: ConvergeOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  const reported = new Map<string, number>();
  let pending = [...ids];
  let last: ServiceState[] = [];
  while (pending.length) {
    last = await Promise.all(pending.map((id) => serviceState(docker, id)));
    for (const s of last) {
      if (reported.get(s.name) === s.running) continue;
      reported.set(s.name, s.running);
      o.onProgress?.({ service: s.name, running: s.running, desired: s.desired });
    }
    pending = pending.filter((_, i) => !last[i]!.done);
    if (!pending.length) return;
    if (Date.now() >= deadline) {
      const waiting = last.filter((s) => !s.done).map((s) => `${s.name} (${s.running}/${s.desired} tasks running the current spec)`);
      throw new UserError(`the stack did not converge within ${Math.round(o.timeoutMs / 1000)} s: ${waiting.join(', ')}`, 1,
        'see why with `tscompose --backend swarm ps` (its ERROR column); the services stay deployed and the swarm keeps trying; run up again to wait more (--wait-timeout SECONDS)');
    }
    await sleep(o.pollMs ?? 200);
  }
}

async function serviceState(docker: Dockerode, id: string): Promise<ServiceState> {
  const svc = await docker.getService(id).inspect() as {
    Spec: { Name: string; Mode: { Replicated?: { Replicas?: number }; Global?: object } };
    UpdateStatus?: { State?: string; Message?: string };
  };
  const name = svc.Spec.Name;
  const update = svc.UpdateStatus;
  failOnStoppedUpdate(name, update);
  const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [id], 'desired-state': ['running'] }) });
  const current = new Set((await docker.listTasks({ filters: JSON.stringify({ service: [id], 'desired-state': ['running'], '_up-to-date': ['true'] }) })).map((t) => t.ID));
  const running = tasks.filter((t) => current.has(t.ID) && t.Status?.State === 'running').length;
  const replicated = svc.Spec.Mode.Replicated;
  // A global service's count is the manager's to decide (one per eligible node): the tasks it placed,
  // at least one, lest a service just created, whose tasks are not placed yet, pass for converged.
  const desired = replicated ? replicated.Replicas ?? 1 : Math.max(1, tasks.length);
  // Converged: exactly the tasks asked for, all of the current spec and running (an old task of a
  // start-first update still wanted running means the update has not finished), and no update under way.
  const updating = update?.State === 'updating' || update?.State === 'rollback_started';
  const done = !updating && tasks.length === desired && running === desired;
  return { name, done, running, desired };
}

/** A rolling update the manager stopped (failure_action pause or rollback) is a failure of `up`. */
function failOnStoppedUpdate(name: string, update: { State?: string; Message?: string } | undefined): void {
  const why = update?.Message ? `: ${update.Message}` : '';
  switch (update?.State) {
    case 'paused':
      throw new UserError(`the rolling update of service "${name}" was paused by the swarm${why}`, 1,
        `its tasks are part old, part new; fix the file and run up again, or go back with \`docker service rollback ${name}\``);
    case 'rollback_completed':
      throw new UserError(`the rolling update of service "${name}" failed and the swarm rolled it back${why}`, 1,
        'the service runs its previous spec; fix the file and run up again');
    case 'rollback_paused':
      throw new UserError(`the rolling update of service "${name}" failed and its rollback was paused by the swarm${why}`, 1,
        `see its tasks with \`tscompose --backend swarm ps\`; fix the file and run up again`);
    default:
  }
}
