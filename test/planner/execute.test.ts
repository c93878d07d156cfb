import { describe, expect, it } from 'vitest';
import { execute, throwIfFailed } from '../../src/planner/execute.js';
import { PlanBuilder } from '../../src/planner/plan.js';
import type { ProgressEvent } from '../../src/planner/progress.js';
import { NotConnectedError, type Engine } from '../../src/engine/types.js';
import { NotFoundError, UserError } from '../../src/util/errors.js';

/**
 * The executor alone, against a recording stand-in for the engine (the one
 * place a mock is right: what is under test is ordering and failure handling,
 * not what an engine does).
 */
function recordingEngine(behaviour: { failCreate?: string; warnOn?: string; missingRemove?: boolean; delayMs?: Record<string, number> } = {}) {
  const calls: string[] = [];
  const running = { now: 0, max: 0 };
  const step = async (what: string) => {
    running.now++;
    running.max = Math.max(running.max, running.now);
    await new Promise((r) => setTimeout(r, behaviour.delayMs?.[what] ?? 5));
    running.now--;
    calls.push(what);
  };
  const engine = {
    backend: 'docker',
    networks: { create: async (s: { name: string }) => (await step(`net:${s.name}`), { id: 'n1' }) },
    volumes: {},
    images: {},
    containers: {
      create: async (s: { name: string }) => {
        if (s.name === behaviour.failCreate) throw new UserError(`cannot create container ${s.name}: boom`);
        await step(`create:${s.name}`);
        return { id: `id-${s.name}`, warnings: s.name === behaviour.warnOn ? ['device /dev/fuse: permissions "r" are not enforced'] : [] };
      },
      start: async (id: string) => step(`start:${id}`),
      remove: async (id: string) => {
        if (behaviour.missingRemove) throw new NotFoundError('container', id);
        await step(`remove:${id}`);
      },
      rename: async (id: string, name: string) => step(`rename:${id}:${name}`),
    },
  } as unknown as Engine;
  return { engine, calls, running };
}

const spec = (name: string) => ({ name, image: 'img', labels: {} });

describe('execute', () => {
  it('shows the warnings an engine returns from create as warning events of that container', async () => {
    const b = new PlanBuilder();
    b.add({ kind: 'CreateContainer', spec: spec('p-a-1') }, 'service:a:1', 'no container');
    const events: ProgressEvent[] = [];
    await execute(b.build(), recordingEngine({ warnOn: 'p-a-1' }).engine, (e) => events.push({ ...e, time: 0 }));
    expect(events.filter((e) => e.status === 'warning')).toEqual([
      { id: 'Container p-a-1', status: 'warning', text: 'Warning', details: 'device /dev/fuse: permissions "r" are not enforced', time: 0 },
    ]);
  });

  it('runs each operation once its parents are done, independent ones in parallel, created ids flowing to later ops', async () => {
    const b = new PlanBuilder();
    const net = b.add({ kind: 'CreateNetwork', spec: { name: 'p_default', labels: {} } }, 'network:default', 'not found');
    const a = b.add({ kind: 'CreateContainer', spec: spec('p-a-1') }, 'service:a:1', 'no container', [net]);
    const c = b.add({ kind: 'CreateContainer', spec: spec('p-c-1') }, 'service:c:1', 'no container', [net]);
    b.add({ kind: 'StartContainer', container: { createdBy: a, name: 'p-a-1' } }, 'service:a:1', 'created', [a]);
    b.add({ kind: 'StartContainer', container: { createdBy: c, name: 'p-c-1' } }, 'service:c:1', 'created', [c, a]);
    const { engine, calls, running } = recordingEngine({ delayMs: { 'create:p-a-1': 30 } });
    const events: ProgressEvent[] = [];
    const result = await execute(b.build(), engine, (e) => events.push({ ...e, time: 0 }));
    expect(result.failures).toEqual([]);
    expect(calls[0]).toBe('net:p_default');
    expect(running.max).toBe(2); // the two creates overlapped
    expect(calls.indexOf('start:id-p-a-1')).toBeLessThan(calls.indexOf('start:id-p-c-1'));
    expect(calls).toContain('start:id-p-c-1');
    expect(events.filter((e) => e.id === 'Container p-a-1').map((e) => e.text)).toEqual(['Creating', 'Created', 'Starting', 'Started']);
    expect(events.find((e) => e.id === 'Network p_default')!.text).toBe('Creating');
  });

  it('a failure skips only its dependents, is reported with its operation, and the rest finishes', async () => {
    const b = new PlanBuilder();
    const bad = b.add({ kind: 'CreateContainer', spec: spec('p-bad-1') }, 'service:bad:1', 'no container');
    b.add({ kind: 'StartContainer', container: { createdBy: bad, name: 'p-bad-1' } }, 'service:bad:1', 'created', [bad]);
    const good = b.add({ kind: 'CreateContainer', spec: spec('p-good-1') }, 'service:good:1', 'no container');
    b.add({ kind: 'StartContainer', container: { createdBy: good, name: 'p-good-1' } }, 'service:good:1', 'created', [good]);
    const { engine, calls } = recordingEngine({ failCreate: 'p-bad-1' });
    const events: ProgressEvent[] = [];
    const result = await execute(b.build(), engine, (e) => events.push({ ...e, time: 0 }));
    expect(calls.sort()).toEqual(['create:p-good-1', 'start:id-p-good-1']);
    expect(result.failures.map((f) => f.node.id)).toEqual([bad]);
    expect(result.skipped.map((n) => n.resource)).toEqual(['service:bad:1']);
    expect(events.find((e) => e.status === 'error')).toMatchObject({ id: 'Container p-bad-1', text: 'Error', details: 'cannot create container p-bad-1: boom' });
    expect(() => throwIfFailed(result)).toThrow('cannot create container p-bad-1: boom');
  });

  it('an optional failure is a warning and does not stop dependents; removing what is gone converges', async () => {
    const b = new PlanBuilder();
    const gone = b.add({ kind: 'RemoveContainer', container: { id: 'x', name: 'p-x-1' }, volumes: true }, 'service:x:1', 'down');
    const opt = b.add({ kind: 'CreateContainer', spec: spec('p-bad-1') }, 'service:bad:1', 'no container', [gone], { optional: true });
    b.add({ kind: 'CreateContainer', spec: spec('p-after-1') }, 'service:after:1', 'no container', [opt]);
    const { engine, calls } = recordingEngine({ failCreate: 'p-bad-1', missingRemove: true });
    const result = await execute(b.build(), engine, () => undefined);
    expect(result.failures).toEqual([]);
    expect(result.warnings.map((w) => w.node.id)).toEqual([opt]);
    expect(calls).toEqual(['create:p-after-1']);
  });

  it('a disconnect of a container that is no longer on the network is the goal reached', async () => {
    // The Engine says "not connected" (as Docker does, and as `network disconnect` prints); the plan converges.
    const engine = {
      networks: { disconnect: async (network: string, container: string) => { throw new NotConnectedError(container, network); } },
    } as unknown as Engine;
    const b = new PlanBuilder();
    b.add({ kind: 'DisconnectNetwork', network: 'p_back', container: { id: 'c1', name: 'p-web-1' } }, 'network:back', 'config changed');
    const result = await execute(b.build(), engine, () => undefined);
    expect(result.failures).toEqual([]);
  });

  it('a recreate shows as one line: Recreate, then Recreated under the final name', async () => {
    const b = new PlanBuilder();
    const g = { group: 'recreate:a:1' };
    const create = b.add({ kind: 'CreateContainer', spec: spec('0123456789ab_p-a-1') }, 'service:a:1', 'config changed', [], g);
    const remove = b.add({ kind: 'RemoveContainer', container: { id: 'old', name: 'p-a-1' }, volumes: true }, 'service:a:1', 'replaced', [create], g);
    b.add({ kind: 'RenameContainer', container: { createdBy: create, name: '0123456789ab_p-a-1' }, name: 'p-a-1' }, 'service:a:1', 'finalize', [remove], g);
    const { engine } = recordingEngine();
    const events: ProgressEvent[] = [];
    await execute(b.build(), engine, (e) => events.push({ ...e, time: 0 }));
    expect(events.map((e) => `${e.id} ${e.text}`)).toEqual(['Container p-a-1 Recreate', 'Container p-a-1 Recreated']);
  });

  it('an aborted run starts nothing new', async () => {
    const b = new PlanBuilder();
    b.add({ kind: 'CreateContainer', spec: spec('p-a-1') }, 'service:a:1', 'no container');
    const ac = new AbortController();
    ac.abort();
    const { engine, calls } = recordingEngine();
    const result = await execute(b.build(), engine, () => undefined, { signal: ac.signal });
    expect(calls).toEqual([]);
    expect(result.skipped).toHaveLength(1);
  });
});
