import { describe, expect, it } from 'vitest';
import { events } from '../../src/compose/events.js';
import type { Engine, EngineEvent, EventFilter } from '../../src/engine/types.js';

/**
 * `events --since/--until` in the compose layer: both go to the engine (which
 * replays its journal from `since` and ends at `until`); an event past `until`
 * ends the stream here too. The engine is a stand-in that replays a list and
 * then waits for its signal; the engines' own --until is in the e2e test
 * (test/orchestrator/verbs.test.ts).
 */
function replaying(list: EngineEvent[]) {
  const seen: { filter?: EventFilter; aborted: boolean } = { aborted: false };
  const engine = {
    async *events(filter: EventFilter, signal: AbortSignal): AsyncIterable<EngineEvent> {
      seen.filter = filter;
      for (const e of list) if (filter.since === undefined || e.time >= filter.since) yield e;
      await new Promise<void>((done) => signal.addEventListener('abort', () => done(), { once: true }));
      seen.aborted = true;
    },
  } as unknown as Engine;
  return { engine, seen };
}

const ev = (time: number, action: string): EngineEvent => ({ time, type: 'container', action, id: `c${time}`, attributes: { 'com.docker.compose.service': 'web' } }) as EngineEvent;

async function collect(it: AsyncIterable<{ action: string }>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of it) out.push(e.action);
  return out;
}

describe('events --since/--until', () => {
  it('replays from since and ends at the first event past until', async () => {
    const { engine, seen } = replaying([ev(1000, 'create'), ev(2000, 'start'), ev(3000, 'die'), ev(4000, 'destroy')]);
    const got = await collect(events(engine, { name: 'p' }, { signal: new AbortController().signal, since: 2000, until: 3500 }));
    expect(got).toEqual(['start', 'die']);
    expect(seen.filter).toMatchObject({ since: 2000, until: 3500 });
  });

});
