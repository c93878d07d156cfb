import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { checkNoLeaks, makeRuntimeRoot, runToEnd } from './helpers.js';
import { inspectContainer, listedContainers, listingChores, resolveContainer, summaries } from '../../src/engine/native/runtime/listing.js';
import { NativeEngine } from '../../src/engine/native/engine/index.js';
import { NotFoundError } from '../../src/util/errors.js';

// What the native Engine lists from the containers' records without loading the runtime (a no-op `up`
// decides from it) must be what the runtime's own list says, and a listing with work for the runtime
// (a crashed create's remains, an exited --rm container) must go to the runtime, which does it.

describe('listing from the records (runtime/listing.ts)', () => {
  afterEach(checkNoLeaks);

  it('reads what the runtime lists and inspects, and hands a listing with chores to the runtime', async () => {
    const root = await makeRuntimeRoot();
    const made = await root.create({ name: 'made', cmd: ['true'], labels: { app: 'a' } });
    await runToEnd(root, { name: 'done', cmd: ['true'], labels: { app: 'a' } });
    const running = await root.create({ name: 'up', cmd: ['sleep', '60'], labels: { app: 'b', tier: 'x' } });
    await root.runtime.start(running);

    for (const filter of [{}, { labels: { app: 'a' } }, { labels: { tier: undefined } }, { name: 'do' }]) {
      const listed = listedContainers(filter);
      expect(listingChores(listed)).toBe(false);
      for (const all of [true, false]) expect(summaries(listed, { all })).toEqual(await root.runtime.list({ ...filter, all }));
    }
    expect(summaries(listedContainers(), { all: true, status: ['exited'] })).toEqual(await root.runtime.list({ all: true, status: ['exited'] }));
    for (const ref of [made, 'done', '/up', running.slice(0, 12)]) expect(inspectContainer(ref)).toEqual(await root.runtime.inspect(ref));
    expect(() => resolveContainer('nope')).toThrow(NotFoundError);

    // The Engine's list (what observe reads) agrees, state by state.
    const engine = new NativeEngine();
    const byEngine = async () => (await engine.containers.list({ all: true })).map((c) => [c.name, c.state]).sort();
    expect(await byEngine()).toEqual([['done', 'exited'], ['made', 'created'], ['up', 'running']]);

    // An exited autoRemove container nobody waited for: a chore, which the Engine's list has the runtime do.
    const gone = await root.create({ name: 'gone', cmd: ['true'], autoRemove: true });
    await root.runtime.start(gone);
    await root.runtime.waitExit(gone);
    expect(listingChores(listedContainers())).toBe(true);
    expect(listingChores(listedContainers({ labels: { app: 'a' } }))).toBe(false);
    expect(await byEngine()).toEqual([['done', 'exited'], ['made', 'created'], ['up', 'running']]);
    expect(existsSync(join(root.state, 'containers', gone))).toBe(false);

    // A create that crashed half-way (a dir with a name file whose creator is dead): a chore too; the list sweeps it.
    const crashed = join(root.state, 'containers', 'cd'.repeat(32));
    mkdirSync(crashed);
    writeFileSync(join(crashed, 'name'), `crashed\n${spawnSync('true').pid} 1\n`);
    expect(listingChores(listedContainers())).toBe(true);
    expect(await byEngine()).toEqual([['done', 'exited'], ['made', 'created'], ['up', 'running']]);
    expect(existsSync(crashed)).toBe(false);
    expect(listingChores(listedContainers())).toBe(false);

    for (const c of await root.runtime.list({ all: true })) await root.runtime.remove(c.Id, { force: true });
  });
});
