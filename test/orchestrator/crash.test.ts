import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEngine } from '../../src/engine/index.js';
import type { Engine } from '../../src/engine/types.js';
import { BACKENDS, BUSYBOX, prepareBackend, releaseBackend } from './helpers.js';
import { Scenario, disposeBuild, ensureBuilt } from './cli.js';

/**
 * kill -9 of the CLI at random moments of an `up` that creates or recreates
 * everything: the next `up` converges (one container per replica, all
 * running, all with the new configuration, under their final names), and
 * `down` then leaves nothing.
 */
const TRIALS = 20;

describe.each(BACKENDS)('crash recovery on %s', (backend) => {
  let engine: Engine;
  let s: Scenario;

  beforeAll(async () => {
    await Promise.all([prepareBackend(backend), ensureBuilt()]);
    engine = await openEngine(backend);
    s = new Scenario(backend);
  });
  afterAll(async () => {
    s?.dispose();
    disposeBuild();
    await engine?.close();
    await releaseBackend(backend);
  });

  const file = (version: number) => `
services:
  db:
    image: ${BUSYBOX}
    command: ["sleep", "3600"]
    init: true
    environment: { VERSION: "${version}" }
    volumes: [data:/data]
    networks: [back]
  api:
    image: ${BUSYBOX}
    command: ["sleep", "3600"]
    init: true
    environment: { VERSION: "${version}" }
    depends_on: [db]
    networks: [back, front]
  web:
    image: ${BUSYBOX}
    command: ["sleep", "3600"]
    init: true
    scale: 2
    environment: { VERSION: "${version}" }
    depends_on: [api]
    networks: [front]
networks:
  back: { internal: true }
  front: { internal: true }
volumes:
  data: {}
`;

  it(`converges after kill -9 at ${TRIALS} random moments of up`, async () => {
    // A new seed each run covers new moments; a failure prints it, and CRASH_SEED replays it.
    const firstSeed = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);
    let seed = firstSeed;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const killedAt: number[] = [];
    for (let trial = 1; trial <= TRIALS; trial++) {
      s.write('compose.yaml', file(trial));
      const child = s.spawn(['up', '-d']);
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      const delay = Math.floor(random() * 2500);
      await Promise.race([sleep(delay), exited]);
      child.kill('SIGKILL');
      await exited;
      killedAt.push(delay);

      const up = await s.compose(['up', '-d']);
      expect(up.code, `trial ${trial} (killed after ${delay} ms, CRASH_SEED=${firstSeed}): ${up.stderr}`).toBe(0);
      const containers = await engine.containers.list({ all: true, labels: { 'com.docker.compose.project': s.name } });
      expect(containers.map((c) => c.name).sort(), `trial ${trial}, CRASH_SEED=${firstSeed}`).toEqual([`${s.name}-api-1`, `${s.name}-db-1`, `${s.name}-web-1`, `${s.name}-web-2`]);
      for (const c of containers) {
        const d = (await engine.containers.inspect(c.id))!;
        expect(d.state, `${c.name} in trial ${trial}`).toBe('running');
        expect(d.env, `${c.name} in trial ${trial}`).toContain(`VERSION=${trial}`);
      }
      // Converged means converged: one more up has nothing to do.
      expect((await s.ok(['--dry-run', 'up', '-d'])).stdout).toBe('DRY-RUN MODE - nothing to do\n');
    }
    await s.ok(['down', '-v']);
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
    expect(killedAt).toHaveLength(TRIALS);
    // A deadline, not a timing claim: 20 trials of two `up`s each take ~60 s alone on dockerd and
    // twice that on a loaded 2-core machine.
  }, 360_000);
});
