import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { run } from '../../src/util/proc.js';
import { createNetwork, inspectNetwork } from '../../src/network/index.js';
import { readPortRecords } from '../../src/network/ports/publisher.js';
import { repoRoot } from '../support/cache.js';
import { useNetEnv } from './support.js';

// Several processes changing one state root at once: the lock keeps records, IPAM and ports consistent.

describe('concurrent changes', () => {
  const t = useNetEnv();

  it('four processes attaching at once get distinct addresses and ports, all recorded', async () => {
    await createNetwork({ name: 'busy' });
    const results = await Promise.all(
      [1, 2, 3, 4].map(() =>
        run(process.execPath, [join(repoRoot, 'test/network/fixtures/attach-many.mjs'), join(t.env.build, 'network/index.js'), 'busy', '3'], {
          env: { ...process.env, ...t.env.env },
        }),
      ),
    );
    for (const r of results) expect(r.stderr).toBe('');
    const attached = results.flatMap((r) => JSON.parse(r.stdout) as { id: string; ip: string; port: number }[]);
    expect(attached).toHaveLength(12);
    expect(new Set(attached.map((a) => a.ip)).size).toBe(12);
    expect(new Set(attached.map((a) => a.port)).size).toBe(12);
    const containers = inspectNetwork('busy').Containers;
    expect(Object.keys(containers).sort()).toEqual(attached.map((a) => a.id).sort());
    expect(readPortRecords().map((r) => r.containerId).sort()).toEqual(attached.map((a) => a.id).sort());
    // tearDownNetEnv prunes: the attached containers have no process, so the network and all of it goes.
  });
});
