import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ready, useNativeEngine } from './harness.js';
import { BUSYBOX } from './support.js';

/**
 * Logs have a cap: Compose's logging max-size and max-file for the json-file
 * driver, else the host's default (20m x 5, TSCOMPOSE_LOG_MAX_SIZE and
 * TSCOMPOSE_LOG_MAX_FILE); a log once filled the disk the state lives on.
 */
describe('the log cap', () => {
  const t = useNativeEngine();

  it('rotates at max-size, keeps max-file files, and logs reads across them in order', async () => {
    await ready(t);
    const file = `services:\n  chatty:\n    image: ${BUSYBOX}\n    command: ["sh", "-c", "i=0; while [ $$i -lt 2000 ]; do i=$$((i+1)); echo line-$$i; done; sleep 600"]\n    logging:\n      options: { max-size: 2k, max-file: "3" }\n`;
    const up = await t.compose(['up', '-d'], file);
    expect(up.code, up.stderr).toBe(0);
    const [c] = await t.engine().containers.list({});
    const dir = join(t.root().state, 'containers', c!.id);
    let logs = '';
    for (let i = 0; i < 200 && !logs.includes('line-2000\n'); i++) {
      logs = (await t.compose(['logs', '--no-log-prefix', 'chatty'])).stdout;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(readdirSync(dir).filter((n) => n.startsWith('container.log')).sort()).toEqual(['container.log', 'container.log.1', 'container.log.2']);
    for (const f of ['container.log', 'container.log.1', 'container.log.2']) expect(statSync(join(dir, f)).size).toBeLessThan(2048 + 200);
    // What is kept is the newest output, whole and in order.
    const numbers = logs.trim().split('\n').map((l) => Number(l.replace('line-', '')));
    expect(numbers.length).toBeGreaterThan(50);
    expect(numbers.at(-1)).toBe(2000);
    expect(numbers).toEqual(numbers.map((_, i) => 2000 - numbers.length + 1 + i));
    expect((await t.compose(['down', '-t', '0'])).code).toBe(0);
  });

  it('caps a log nobody asked to cap (the host default), and refuses a max-size that is no size', async () => {
    await ready(t);
    const id = await t.container({ cmd: ['true'] }, false);
    const config = JSON.parse(readFileSync(join(t.root().state, 'containers', id, 'config.json'), 'utf8')) as { spec: { log?: unknown } };
    expect(config.spec.log).toEqual({ maxSize: 20 * 1024 * 1024, maxFiles: 5 });
    await expect(t.container({ cmd: ['true'], logging: { driver: 'json-file', options: { 'max-size': 'lots' } } }, false)).rejects.toThrow(/max-size "lots" is not a size/);
  });
});
