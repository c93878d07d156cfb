import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from '../../src/compose/build.js';
import { loadProject } from '../../src/project/load.js';
import type { Engine } from '../../src/engine/types.js';

/**
 * `build --with-dependencies` and `build --push`: which images are built, in
 * which order, and which are pushed. The engine is a recorder (what the
 * builder and the registry do is tested with them elsewhere).
 */
const dir = mkdtempSync(join(tmpdir(), 'tsc-build-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
writeFileSync(
  join(dir, 'compose.yaml'),
  `name: flags
services:
  app:
    build: .
    image: registry.test/app:1
    depends_on: [base]
  base:
    build: .
    image: registry.test/base:1
  db:
    build: .
`,
);

function recorder() {
  const calls: string[] = [];
  const engine = {
    backend: 'native',
    images: {
      build: async (r: { tags: string[] }) => {
        calls.push(`build ${r.tags[0]}`);
        return 'sha256:0';
      },
      push: async (ref: string) => {
        calls.push(`push ${ref}`);
        return { reference: ref, digest: 'sha256:1' };
      },
    },
  } as unknown as Engine;
  return { engine, calls };
}

describe('build --with-dependencies, --push', () => {
  it('builds the named service only, or with its dependencies first', async () => {
    const project = await loadProject({ cwd: dir, environment: {} });
    const plain = recorder();
    await build(plain.engine, project, { services: ['app'] });
    expect(plain.calls).toEqual(['build registry.test/app:1']);
    const deps = recorder();
    await build(deps.engine, project, { services: ['app'], withDependencies: true });
    expect(deps.calls).toEqual(['build registry.test/base:1', 'build registry.test/app:1']);
  });

  it('--push pushes what it built that has an image: name', async () => {
    const project = await loadProject({ cwd: dir, environment: {} });
    const r = recorder();
    await build(r.engine, project, { services: ['app', 'db'], push: true });
    expect(r.calls.filter((c) => c.startsWith('build')).sort()).toEqual(['build flags-db', 'build registry.test/app:1']);
    expect(r.calls.filter((c) => c.startsWith('push'))).toEqual(['push registry.test/app:1']);
    expect(r.calls.indexOf('push registry.test/app:1')).toBeGreaterThan(r.calls.indexOf('build registry.test/app:1'));
  });
});
