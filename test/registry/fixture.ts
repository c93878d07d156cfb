import { afterEach, beforeEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../../src/engine/native/image/index.js';
import { checkNoLeaks, processesOf } from '../runtime/helpers.js';
import { isolateDockerConfig, startRegistry, type RegistryAuth, type TestRegistry } from '../support/registry.js';

/**
 * What every registry test sets up and tears down: a docker config dir of
 * its own (no test touches ~/.docker), the registry it starts, temp dirs,
 * and the runtime leak check at the end.
 */
export interface RegistryFixture {
  /** Starts a registry for this test; it is stopped after it. */
  start(auth?: RegistryAuth): Promise<TestRegistry>;
  readonly dockerConfigDir: string;
  /** An empty docker config again: anonymous from now on. */
  resetDockerConfig(): void;
  /** A temp dir removed after the test. */
  tempDir(prefix: string): string;
  /** An empty image store in a temp dir. */
  emptyStore(): Promise<ImageStore>;
}

export function registryFixture(): RegistryFixture {
  let registries: TestRegistry[] = [];
  let config: ReturnType<typeof isolateDockerConfig> | undefined;
  const dirs: string[] = [];
  beforeEach(() => {
    config = isolateDockerConfig();
  });
  afterEach(async () => {
    for (const r of registries) await r.stop();
    registries = [];
    config?.restore();
    for (const d of dirs.splice(0)) {
      // A CLI run in a root of the test's own may have started that root's network daemon, which
      // winds down on its own a moment later and would make its state/networks again under a
      // removed root: wait for it to leave first.
      await processesGone(join(d, 'state'));
      rmSync(d, { recursive: true, force: true });
    }
    await checkNoLeaks();
  });
  const processesGone = async (state: string) => {
    for (let i = 0; i < 250 && processesOf(state).length; i++) await new Promise((r) => setTimeout(r, 20));
  };
  const tempDir = (prefix: string) => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
  return {
    async start(auth = 'none') {
      const r = await startRegistry(auth);
      registries.push(r);
      return r;
    },
    get dockerConfigDir() {
      return config!.dir;
    },
    resetDockerConfig() {
      config?.restore();
      config = isolateDockerConfig();
    },
    tempDir,
    emptyStore: () => ImageStore.open(join(tempDir('tsc-store2-'), 'image')),
  };
}
