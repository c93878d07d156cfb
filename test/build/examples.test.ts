import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withLock } from '../../src/util/lock.js';
import { ImageStore, mountPoints } from '../../src/engine/native/image/index.js';
import { ContainerRuntime } from '../../src/engine/native/runtime/index.js';
import { buildImage } from '../../src/build/index.js';
import { bootstrapDebianImage } from '../../src/build/bootstrap-image.js';
import { cacheDir, repoRoot } from '../support/cache.js';
import { debianRootfsTar } from '../support/images.js';
import { processesOf } from '../runtime/helpers.js';

/**
 * The example's Dockerfiles (examples/wordpress-mysql db/ and wordpress/)
 * build with our builder, RUN steps on the host network so that apt reaches
 * the Debian mirror. Slow the first time (apt), so the store and build cache
 * live in .cache/build-examples and later runs are cache hits; the
 * containers each RUN makes are removed as always, and nothing stays
 * mounted or running.
 */

const EXAMPLE = join(repoRoot, 'examples/wordpress-mysql');
const MINUTE = 60_000;

describe('examples/wordpress-mysql with the native builder', () => {
  it('builds db and wordpress from debian:bookworm, then rebuilds them from the cache', async () => {
    const dir = cacheDir('build-examples');
    const state = join(dir, 'state');
    const run = mkdtempSync(join(tmpdir(), 'tsc-examples-run-'));
    const env = { root: process.env.TSCOMPOSE_ROOT, run: process.env.TSCOMPOSE_RUN };
    process.env.TSCOMPOSE_ROOT = state;
    process.env.TSCOMPOSE_RUN = run;
    try {
      await withLock(join(dir, 'lock'), async () => {
        const store = await ImageStore.open(join(state, 'image'));
        const runtime = await ContainerRuntime.open({ images: store });
        const deps = { store, runtime };
        if (!(await store.resolve('debian:bookworm'))) {
          await debianRootfsTar('bookworm');
          await bootstrapDebianImage(store, 'debian:bookworm', { cacheDir: cacheDir('images') });
        }
        const results: Record<string, { ms: number; hits: number; misses: number }> = {};
        for (const [name, tag] of [['db', 'mariadb:10.11'], ['wordpress', 'wordpress:6.1']] as const) {
          const lines: string[] = [];
          const t0 = performance.now();
          const r = await buildImage(deps, { context: join(EXAMPLE, name), tags: [tag], network: 'host', onLine: (l) => lines.push(l) });
          results[name] = { ms: performance.now() - t0, hits: r.cacheHits, misses: r.cacheMisses };
          expect(lines.join('\n')).toContain(`Successfully tagged ${tag}`);
        }
        const db = (await store.get('mariadb:10.11')).config.config!;
        expect(db.Entrypoint).toEqual(['docker-entrypoint.sh']);
        expect(db.Cmd).toEqual(['mariadbd']);
        expect(db.ExposedPorts).toEqual({ '3306/tcp': {} });
        expect(db.Volumes).toEqual({ '/var/lib/mysql': {} });
        const wp = (await store.get('wordpress:6.1')).config.config!;
        expect(wp.StopSignal).toBe('SIGWINCH');
        expect(wp.WorkingDir).toBe('/usr/share/wordpress');
        expect(wp.Volumes).toEqual({ '/var/lib/wordpress': {} });
        expect(wp.Env).toEqual(expect.arrayContaining(['APACHE_CONFDIR=/etc/apache2', 'APACHE_ENVVARS=/etc/apache2/envvars']));

        expect(await output(runtime, 'mariadb:10.11', ['sh', '-c', 'mariadbd --version; id mysql; stat -c "%U %a" /run/mysqld'])).toMatch(/mariadbd\s+Ver 10\.11.*\nuid=999\(mysql\) gid=999\(mysql\) groups=999\(mysql\)\nmysql 777\n$/s);
        expect(await output(runtime, 'wordpress:6.1', ['sh', '-c', 'apache2 -v | head -1; php -r "echo PHP_MAJOR_VERSION, \\"\\n\\";"; test -f wp-settings.php && echo core-here'])).toMatch(/^Server version: Apache\/2\.4\.\d+ \(Debian\)\n8\n.*core-here\n$/s);

        // Again: nothing changed, every step from the cache.
        for (const [name, tag] of [['db', 'mariadb:10.11'], ['wordpress', 'wordpress:6.1']] as const) {
          const r = await buildImage(deps, { context: join(EXAMPLE, name), tags: [tag], network: 'host' });
          expect(r.cacheMisses).toBe(0);
        }
        console.log(`examples built: ${Object.entries(results).map(([n, r]) => `${n} ${(r.ms / 1000).toFixed(1)} s (${r.hits} cached, ${r.misses} run)`).join(', ')}`);
        expect(await runtime.list({ all: true })).toEqual([]);
      }, 60 * MINUTE);
    } finally {
      process.env.TSCOMPOSE_ROOT = env.root;
      process.env.TSCOMPOSE_RUN = env.run;
      if (env.root === undefined) delete process.env.TSCOMPOSE_ROOT;
      if (env.run === undefined) delete process.env.TSCOMPOSE_RUN;
      rmSync(run, { recursive: true, force: true });
    }
    expect(processesOf(state)).toEqual([]);
    expect([...mountPoints()].filter((m) => m.startsWith(state))).toEqual([]);
  }, 60 * MINUTE);
});

async function output(runtime: ContainerRuntime, image: string, cmd: string[]): Promise<string> {
  const id = await runtime.create({ image, entrypoint: [], cmd, user: '0' });
  try {
    await runtime.start(id);
    await runtime.waitExit(id);
    let out = '';
    for await (const e of runtime.logs(id)) out += `${e.line}\n`;
    return out;
  } finally {
    await runtime.remove(id, { force: true, volumes: true });
  }
}
