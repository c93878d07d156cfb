import { describe, expect, it } from 'vitest';
import type Dockerode from 'dockerode';
import { waitConverged, type ConvergeProgress } from '../../src/swarm/converge.js';

/**
 * The convergence wait's decisions, against a manager that answers from a
 * script of states (a mock: the real swarm's rolling update, its progress
 * and its paused update are tested on the bed in resilience.test.ts; the
 * rolled-back states and the timeout are these).
 */

interface Look {
  update?: { State: string; Message?: string };
  replicas?: number;
  /** Tasks wanted running: [state, up to date]. */
  tasks: Array<[string, boolean]>;
}

/** A manager whose service `s1` goes through `looks`, one per poll (the last one stays); `looked` counts the polls. */
let looked = 0;
function manager(looks: Look[]): Dockerode {
  let i = 0;
  looked = 0;
  const look = () => looks[Math.min(i, looks.length - 1)]!;
  return {
    getService: () => ({
      inspect: async () => {
        const l = look();
        return { Spec: { Name: 'p_web', Mode: l.replicas === undefined ? { Global: {} } : { Replicated: { Replicas: l.replicas } } }, UpdateStatus: l.update };
      },
    }),
    listTasks: async (o: { filters: string }) => {
      const upToDate = '_up-to-date' in JSON.parse(o.filters);
      const l = look();
      const tasks = l.tasks.map(([state, current], n) => ({ ID: `t${n}`, Status: { State: state }, current }));
      if (upToDate) looked = ++i; // the second question of a look ends it
      return upToDate ? tasks.filter((t) => t.current) : tasks;
    },
  } as unknown as Dockerode;
}

describe('waitConverged', () => {
  it('reports each change of the count of tasks on the current spec and returns when all run and the update is done', async () => {
    const seen: ConvergeProgress[] = [];
    await waitConverged(manager([
      { update: { State: 'updating' }, replicas: 2, tasks: [['running', false], ['running', false]] },
      { update: { State: 'updating' }, replicas: 2, tasks: [['running', true], ['running', false], ['starting', true]] },
      { update: { State: 'updating' }, replicas: 2, tasks: [['running', true], ['running', true]] },
      { update: { State: 'completed' }, replicas: 2, tasks: [['running', true], ['running', true]] },
    ]), ['s1'], { timeoutMs: 10_000, pollMs: 1, onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => `${p.running}/${p.desired}`)).toEqual(['0/2', '1/2', '2/2']);
    expect(looked).toBe(4); // 2/2 while still "updating" is not done
  });

  it('does not take an old task still wanted running (start-first, mid-step) for convergence', async () => {
    await waitConverged(manager([
      { replicas: 1, tasks: [['running', true], ['running', false]] },
      { replicas: 1, tasks: [['running', true], ['running', false]] },
      { replicas: 1, tasks: [['running', true]] },
    ]), ['s1'], { timeoutMs: 10_000, pollMs: 1 });
    expect(looked).toBe(3);
  });

  it('fails with the swarm\'s reason when the update was rolled back or its rollback paused', async () => {
    await expect(waitConverged(manager([{ update: { State: 'rollback_completed', Message: 'rollback completed' }, replicas: 1, tasks: [['running', true]] }]), ['s1'], { timeoutMs: 10_000, pollMs: 1 }))
      .rejects.toThrow('the rolling update of service "p_web" failed and the swarm rolled it back: rollback completed');
    await expect(waitConverged(manager([{ update: { State: 'rollback_paused', Message: 'rollback paused' }, replicas: 1, tasks: [['running', true]] }]), ['s1'], { timeoutMs: 10_000, pollMs: 1 }))
      .rejects.toThrow('the rolling update of service "p_web" failed and its rollback was paused by the swarm: rollback paused');
  });

  it('gives up at the timeout naming what has not converged', async () => {
    await expect(waitConverged(manager([{ replicas: 3, tasks: [['running', true], ['pending', true], ['pending', true]] }]), ['s1'], { timeoutMs: 30, pollMs: 5 }))
      .rejects.toThrow('the stack did not converge within 0 s: p_web (1/3 tasks running the current spec)');
  });

  it('waits for a global service\'s first task rather than taking no tasks for done', async () => {
    const seen: string[] = [];
    await waitConverged(manager([{ tasks: [] }, { tasks: [['running', true], ['running', true]] }]), ['s1'], { timeoutMs: 10_000, pollMs: 1, onProgress: (p) => seen.push(`${p.running}/${p.desired}`) });
    expect(seen).toEqual(['0/1', '2/2']);
  });
});
