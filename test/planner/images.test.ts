import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadProject } from '../../src/project/index.js';
import { planImages, runImageActions, type ImageOptions } from '../../src/planner/images.js';
import type { Engine, ImageApi, ImageDetails } from '../../src/engine/types.js';
import type { ProgressSink } from '../../src/planner/progress.js';

/**
 * Which images `up` pulls or builds. The planner is the unit here: the engine
 * is a fake that knows which images exist, and records pulls and builds.
 */
function fakeEngine(present: string[], failPulls = false): { engine: Engine; pulled: string[]; built: string[] } {
  const pulled: string[] = [];
  const built: string[] = [];
  const images: Partial<ImageApi> = {
    inspect: async (ref) => (present.includes(ref) ? ({ id: `sha256:${ref}` } as unknown as ImageDetails) : undefined),
    pull: async (ref) => {
      if (failPulls) throw new Error(`pull access denied for ${ref}`);
      pulled.push(ref);
      return { reference: ref };
    },
    build: async (spec) => {
      built.push(spec.tags[0]!);
      return 'sha256:built';
    },
  };
  return { engine: { images } as unknown as Engine, pulled, built };
}

async function project(yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-images-'));
  try {
    writeFileSync(join(dir, 'compose.yaml'), yaml);
    return await loadProject({ configFiles: [join(dir, 'compose.yaml')], environment: {}, projectName: 'p' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const FILE = `
services:
  named:      { image: "example/named:1", build: { context: . } }
  unnamed:    { build: { context: . } }
  never:      { image: "example/never:1", build: { context: . }, pull_policy: never }
  always:     { image: "example/always:1", build: { context: . }, pull_policy: always }
  bybuild:    { image: "example/bybuild:1", build: { context: . }, pull_policy: build }
  plain:      { image: "example/plain:1" }
`;

const opts = (o: Partial<ImageOptions> = {}): ImageOptions => ({ services: ['named', 'unnamed', 'never', 'always', 'bybuild', 'plain'], ...o });

describe('planImages', () => {
  it('pulls a missing image the file names even when it can build it, builds one named after the project', async () => {
    const p = await project(FILE);
    const { engine } = fakeEngine([]);
    const actions = await planImages(p, engine, opts());
    expect(actions.map((a) => `${a.service} ${a.action} (${a.reason})`)).toEqual([
      'named pull (no image (built if the pull fails))',
      'unnamed build (no image)',
      'never build (no image)',
      'always pull (pull_policy: always)',
      'bybuild build (pull_policy: build)',
      'plain pull (no image)',
    ]);
  });

  it('does nothing for images present, but what pull_policy always or build asks for', async () => {
    const p = await project(FILE);
    const { engine } = fakeEngine(['example/named:1', 'p-unnamed', 'example/never:1', 'example/always:1', 'example/bybuild:1', 'example/plain:1']);
    expect((await planImages(p, engine, opts())).map((a) => `${a.service} ${a.action}`)).toEqual(['always pull', 'bybuild build']);
  });

  it('builds everything buildable with --build, and refuses a missing buildable image with --no-build', async () => {
    const p = await project(FILE);
    expect((await planImages(p, fakeEngine([]).engine, opts({ build: true, services: ['named', 'unnamed'] }))).map((a) => a.action)).toEqual(['build', 'build']);
    await expect(planImages(p, fakeEngine([]).engine, opts({ noBuild: true, services: ['named'] }))).rejects.toThrow(/image example\/named:1 of service named is not built/);
  });
});

describe('runImageActions', () => {
  it('builds a buildable service whose pull failed, and says so', async () => {
    const p = await project(FILE);
    const { engine, pulled, built } = fakeEngine([], true);
    const events: Parameters<ProgressSink>[0][] = [];
    const actions = await planImages(p, engine, opts({ services: ['named'] }));
    await runImageActions(p, engine, actions, (e) => events.push(e), opts({ services: ['named'] }));
    expect(pulled).toEqual([]);
    expect(built).toEqual(['example/named:1']);
    expect(events.find((e) => e.status === 'warning')).toMatchObject({ id: 'Image example/named:1', text: 'Pull failed' });
    expect(events.at(-1)).toMatchObject({ id: 'Image example/named:1', status: 'done', text: 'Built' });
  });

  it('fails when an image that cannot be built cannot be pulled', async () => {
    const p = await project(FILE);
    const { engine } = fakeEngine([], true);
    const actions = await planImages(p, engine, opts({ services: ['plain'] }));
    await expect(runImageActions(p, engine, actions, () => {}, opts({ services: ['plain'] }))).rejects.toThrow(/pull example\/plain:1: pull access denied/);
  });
});
