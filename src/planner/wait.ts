import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerDetails, Engine } from '../engine/types.js';
import { UserError } from '../util/errors.js';
import type { WaitCondition } from './plan.js';

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
  /** Called on each probe whose answer is "not yet", with the state seen. */
  onProgress?: (c: ContainerDetails) => void;
}

/** Why a wait failed; the text is Compose's, so that scripts that grep it keep working. */
export class DependencyError extends UserError {}

/**
 * Polls the container until `condition` holds; throws a DependencyError when it
 * cannot hold any more (unhealthy, exited, no healthcheck) or the timeout
 * passes. Compose polls every 500 ms; a shorter poll starts dependents sooner.
 */
export async function waitForCondition(engine: Engine, idOrName: string, name: string, condition: WaitCondition, o: WaitOptions = {}): Promise<ContainerDetails> {
  const deadline = o.timeoutMs !== undefined ? Date.now() + o.timeoutMs : Infinity;
  const poll = o.pollMs ?? 100;
  for (;;) {
    if (o.signal?.aborted) throw new DependencyError(`waiting for ${name} was interrupted`);
    const c = await engine.containers.inspect(idOrName);
    if (!c) throw new DependencyError(`dependency failed to start: container ${name} is gone`);
    const verdict = judge(c, name, condition);
    if (verdict === true) return c;
    if (verdict instanceof Error) throw verdict;
    o.onProgress?.(c);
    if (Date.now() + poll > deadline) {
      throw new DependencyError(`container ${name} is not ${condition.replace(/_/g, ' ')} after ${Math.round((o.timeoutMs ?? 0) / 1000)}s`, 1, 'raise --wait-timeout, or see why with `logs`');
    }
    try {
      await sleep(poll, undefined, { signal: o.signal });
    } catch {
      throw new DependencyError(`waiting for ${name} was interrupted`);
    }
  }
}

function judge(c: ContainerDetails, name: string, condition: WaitCondition): true | false | Error {
  const exited = c.state === 'exited' || c.state === 'dead';
  switch (condition) {
    case 'completed_successfully':
      if (exited) return c.exitCode === 0 ? true : new DependencyError(`service "${serviceOf(c)}" didn't complete successfully: exit ${c.exitCode}`);
      return false;
    case 'healthy':
      if (c.health === 'healthy') return true;
      if (c.health === 'unhealthy') return new DependencyError(`dependency failed to start: container ${name} is unhealthy`);
      if (exited) return new DependencyError(`dependency failed to start: container ${name} exited (${c.exitCode})`);
      if (c.state === 'running' && c.health === undefined) {
        return new DependencyError(`dependency failed to start: container ${name} has no healthcheck configured`, 1, 'add a healthcheck to the service, or depend on it with condition: service_started');
      }
      return false;
    case 'running_or_healthy':
      if (exited) return new DependencyError(`container ${name} exited (${c.exitCode})`);
      if (c.health === 'unhealthy') return new DependencyError(`container ${name} is unhealthy`);
      return c.state === 'running' && (c.health === undefined || c.health === 'healthy');
  }
}

function serviceOf(c: ContainerDetails): string {
  return c.labels['com.docker.compose.service'] ?? c.name;
}
