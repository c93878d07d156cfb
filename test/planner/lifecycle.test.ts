import { describe, expect, it } from 'vitest';
import { reconcile } from '../../src/planner/reconcile.js';
import { planKill, planPause, planRemove, planRestart, planStartFromLabels, planStop, selectContainers } from '../../src/planner/lifecycle.js';
import { formatPlan } from '../../src/planner/plan.js';
import { planDown } from '../../src/planner/down.js';
import { observedFromLists } from '../../src/planner/observe.js';
import { UserError } from '../../src/util/errors.js';
import { FakeWorld, project, service } from './fixtures.js';

/** The verbs on existing containers, golden, with the order read from the containers' depends_on labels. */
function world() {
  const p = project('life', [
    service('db'),
    service('api', { depends_on: { db: { condition: 'service_started', required: true, restart: true } } }),
    service('web', { depends_on: { api: { condition: 'service_started', required: true, restart: false } } }),
    service('cron'),
  ]);
  const w = new FakeWorld();
  w.apply(reconcile(p, w.observe(p)));
  return { p, w, observed: () => w.observe(p) };
}

const text = (s: string) => s.replace(/^\n/, '');

describe('lifecycle plans', () => {
  it('stop: dependents first, independent services at once', () => {
    const { observed } = world();
    expect(formatPlan(planStop(selectContainers(observed(), []), 3))).toBe(
      text(`
#1 service:web:1 StopContainer (stop)
#2 service:api:1 StopContainer (stop) <- #1
#3 service:cron:1 StopContainer (stop)
#4 service:db:1 StopContainer (stop) <- #2
`),
    );
  });

  it('start without the compose file: dependencies first, from the labels', () => {
    const { w, p } = world();
    for (const c of w.containers) c.state = 'exited';
    const o = observedFromLists('life', undefined, w.containers, w.networks, w.volumes);
    expect(formatPlan(planStartFromLabels(selectContainers(o, [])))).toBe(
      text(`
#1 service:db:1 StartContainer (start)
#2 service:api:1 StartContainer (start) <- #1
#3 service:cron:1 StartContainer (start)
#4 service:web:1 StartContainer (start) <- #2
`),
    );
    expect(p.name).toBe('life');
  });

  it('restart: a restarted dependency restarts the services that declare restart: true on it', () => {
    const { observed } = world();
    expect(formatPlan(planRestart(observed(), ['db'], undefined))).toBe(
      text(`
#1 service:db:1 RestartContainer (restart)
#2 service:api:1 RestartContainer (dependency restarted) <- #1
`),
    );
    expect(formatPlan(planRestart(observed(), ['db'], undefined, true))).toBe('#1 service:db:1 RestartContainer (restart)\n');
  });

  it('kill, pause, unpause and rm act only where they apply', () => {
    const { w, observed } = world();
    w.containers.find((c) => c.name === 'life-cron-1')!.state = 'exited';
    expect(formatPlan(planKill(selectContainers(observed(), ['cron', 'db']), 'SIGTERM'))).toBe('#1 service:db:1 KillContainer (kill -s SIGTERM)\n');
    expect(formatPlan(planPause(selectContainers(observed(), ['cron', 'db']), true))).toBe('#1 service:db:1 PauseContainer (pause)\n');
    expect(formatPlan(planPause(selectContainers(observed(), ['db']), false))).toBe('');
    expect(formatPlan(planRemove(selectContainers(observed(), []), {}))).toBe('#1 service:cron:1 RemoveContainer (rm)\n');
    expect(formatPlan(planRemove(selectContainers(observed(), ['web']), { stop: true }))).toBe(
      text(`
#1 service:web:1 StopContainer (rm --stop)
#2 service:web:1 RemoveContainer (rm) <- #1
`),
    );
  });

  it('a stop the plan removes afterwards says so (the engine may leave to the removal what it undoes); a plain stop does not', () => {
    const { observed } = world();
    const thenRemove = (plan: ReturnType<typeof planStop>) => plan.nodes.filter((n) => n.op.kind === 'StopContainer').map((n) => n.op.kind === 'StopContainer' && n.op.thenRemove === true);
    expect(thenRemove(planStop(selectContainers(observed(), []), 3))).toEqual([false, false, false, false]);
    expect(thenRemove(planRemove(selectContainers(observed(), ['web', 'db']), { stop: true }))).toEqual([true, true]);
    expect(thenRemove(planDown(observed()))).toEqual([true, true, true, true]);
  });

  it('a named service without containers is an error', () => {
    const { observed } = world();
    expect(() => selectContainers(observed(), ['nope'])).toThrow(UserError);
    expect(() => selectContainers(observed(), ['nope'])).toThrow('no container found for service "nope"');
  });
});
