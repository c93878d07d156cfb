import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ready, useNativeEngine } from './harness.js';
import { BUSYBOX } from './support.js';

/**
 * Logs have a cap: Compose's logging max-size and max-file for the json-file
 * driver, else the host's default (20m x 5, TSCOMPOSE_LOG_MAX_SIZE and
 * TSCOMPOSE_LOG_MAX_FILE); a log once filled the disk the state lives on.
 */
describe('the log cap', () => {
  const t = useNativeEngine();

  /** `logs --tail 10` of a service printing `seq 1 100000`, once its last line is in (bounded wait). */
  async function lastTenOnceWritten(service: string): Promise<string> {
    let tail = '';
    for (let i = 0; i < 400 && !tail.endsWith('100000\n'); i++) {
      tail = (await t.compose(['logs', '--no-log-prefix', '--tail', '10', service])).stdout;
      await new Promise((r) => setTimeout(r, 50));
    }
    return tail;
  }

  it('100 000 lines at max-size 100k, max-file 3: three files, none over 100k; logs reads across them in order, --tail 10 the last ten', async () => {
    await ready(t);
    const file = `services:\n  chatty:\n    image: ${BUSYBOX}\n    command: ["sh", "-c", "seq 1 100000; sleep 600"]\n    logging:\n      options: { max-size: 100k, max-file: "3" }\n`;
    const up = await t.compose(['up', '-d'], file);
    expect(up.code, up.stderr).toBe(0);
    const [c] = await t.engine().containers.list({});
    const dir = join(t.root().state, 'containers', c!.id);
    const tail = await lastTenOnceWritten('chatty');
    expect(tail).toBe(Array.from({ length: 10 }, (_, i) => `${99991 + i}\n`).join(''));
    expect(readdirSync(dir).filter((n) => n.startsWith('container.log')).sort()).toEqual(['container.log', 'container.log.1', 'container.log.2']);
    for (const f of ['container.log', 'container.log.1', 'container.log.2']) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(100 * 1024);
    // What is kept is the newest output, whole and in order.
    const numbers = (await t.compose(['logs', '--no-log-prefix', 'chatty'])).stdout.trim().split('\n').map(Number);
    expect(numbers.length).toBeGreaterThan(3000);
    expect(numbers).toEqual(numbers.map((_, i) => 100000 - numbers.length + 1 + i));
    expect((await t.compose(['down', '-t', '0'])).code).toBe(0);
  });

  it('compress: the rotated files gzipped (the live one plain), read across in order, and --tail 10 the last ten', async () => {
    await ready(t);
    const file = `services:\n  zipped:\n    image: ${BUSYBOX}\n    command: ["sh", "-c", "seq 1 100000; sleep 600"]\n    logging:\n      options: { max-size: 100k, max-file: "3", compress: "true" }\n`;
    const up = await t.compose(['up', '-d'], file);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).not.toContain('not applied');
    const [c] = await t.engine().containers.list({});
    const dir = join(t.root().state, 'containers', c!.id);
    const tail = await lastTenOnceWritten('zipped');
    expect(tail).toBe(Array.from({ length: 10 }, (_, i) => `${99991 + i}\n`).join(''));
    // The last compression may still run: wait (bounded) for the plain container.log.1 to be gone.
    const logs = () => readdirSync(dir).filter((n) => n.startsWith('container.log')).sort();
    for (let i = 0; i < 100 && logs().join() !== 'container.log,container.log.1.gz,container.log.2.gz'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(logs()).toEqual(['container.log', 'container.log.1.gz', 'container.log.2.gz']);
    for (const f of ['container.log.1.gz', 'container.log.2.gz']) {
      const inflated = gunzipSync(readFileSync(join(dir, f)));
      expect(inflated.length).toBeGreaterThan(50 * 1024);
      expect(inflated.length).toBeLessThanOrEqual(100 * 1024);
      expect(statSync(join(dir, f)).size).toBeLessThan(inflated.length / 2);
    }
    const numbers = (await t.compose(['logs', '--no-log-prefix', 'zipped'])).stdout.trim().split('\n').map(Number);
    expect(numbers.length).toBeGreaterThan(3000);
    expect(numbers).toEqual(numbers.map((_, i) => 100000 - numbers.length + 1 + i));
    expect((await t.compose(['down', '-t', '0'])).code).toBe(0);
  });

  it('caps a log nobody asked to cap (the host default), and refuses a max-size that is no size and a compress that is no boolean', async () => {
    await ready(t);
    const id = await t.container({ cmd: ['true'] }, false);
    const config = JSON.parse(readFileSync(join(t.root().state, 'containers', id, 'config.json'), 'utf8')) as { spec: { log?: unknown } };
    expect(config.spec.log).toEqual({ maxSize: 20 * 1024 * 1024, maxFiles: 5, compress: false });
    await expect(t.container({ cmd: ['true'], logging: { driver: 'json-file', options: { 'max-size': 'lots' } } }, false)).rejects.toThrow(/max-size "lots" is not a size/);
    await expect(t.container({ cmd: ['true'], logging: { driver: 'json-file', options: { compress: 'yes' } } }, false)).rejects.toThrow(/compress "yes" must be true or false/);
  });
});
