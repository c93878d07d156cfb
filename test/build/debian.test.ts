import { describe, it, expect, afterEach, beforeAll } from 'vitest';
import { debianRootfsTar } from '../support/images.js';
import { cacheDir } from '../support/cache.js';
import { checkNoLeaks, makeRuntimeRoot, runToEnd } from '../runtime/helpers.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { build, removeContexts, writeContext } from './helpers.js';

/**
 * `image bootstrap debian:<suite>`, and a build whose `FROM debian:<suite>`
 * cannot be pulled: Docker Hub is replaced by an empty registry of the
 * test's own on 127.0.0.1 (TSCOMPOSE_REGISTRY_MIRROR), so the pull fails
 * without any traffic leaving the machine, and the build makes the base with
 * debootstrap (from the cached root filesystem) and says so.
 */

let registry: TestRegistry | undefined;
const mirrorBefore = process.env.TSCOMPOSE_REGISTRY_MIRROR;

beforeAll(async () => {
  await debianRootfsTar('bookworm');
}, 30 * 60_000);

afterEach(async () => {
  await registry?.stop();
  registry = undefined;
  if (mirrorBefore === undefined) delete process.env.TSCOMPOSE_REGISTRY_MIRROR;
  else process.env.TSCOMPOSE_REGISTRY_MIRROR = mirrorBefore;
  removeContexts();
  await checkNoLeaks();
});

describe('Debian base images made here', () => {
  it('a FROM debian:bookworm that cannot be pulled is bootstrapped, and the build says so', async () => {
    registry = await startRegistry('none');
    process.env.TSCOMPOSE_REGISTRY_MIRROR = registry.host;
    const root = await makeRuntimeRoot({ image: false });
    const ctx = writeContext({ Dockerfile: 'FROM debian:bookworm\nRUN . /etc/os-release && echo "$PRETTY_NAME" > /release\nCMD ["cat", "/release"]\n' });
    const first = await build(root, ctx, { tags: ['on-debian:1'], bootstrap: { cacheDir: cacheDir('images') } });
    expect(first.output).toMatch(/^debian:bookworm cannot be pulled \(manifest for debian:bookworm not found: manifest unknown\)$/m);
    expect(first.output).toContain('Making debian:bookworm here instead: debootstrap bookworm');
    const base = await root.store.get('debian:bookworm');
    expect(base.config.config!.Cmd).toEqual(['bash']);
    expect(base.config.config!.Env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    const r = await runToEnd(root, { image: 'on-debian:1' });
    expect(r.stdout).toBe('Debian GNU/Linux 12 (bookworm)\n');
    await root.runtime.remove(r.id);

    // Now the store has it: no pull is tried, the build is all cache.
    const second = await build(root, ctx, { tags: ['on-debian:1'] });
    expect(second.output).not.toContain('cannot be pulled');
    expect(second.result.cacheMisses).toBe(0);
  });

  it('tscompose image bootstrap debian:bookworm imports it under that name', async () => {
    const root = await makeRuntimeRoot({ image: false });
    const r = root.cli(['image', 'bootstrap', 'debian:bookworm', '--cache-dir', cacheDir('images')], { timeout: 600_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(r.stderr).toContain('importing the root filesystem (cached) as debian:bookworm');
    expect(root.cli(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']).stdout).toBe('debian:bookworm\n');
    const bad = root.cli(['image', 'bootstrap', 'ubuntu:jammy']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/makes Debian base images only: ubuntu:jammy is not debian:<suite>/);
  });
});
