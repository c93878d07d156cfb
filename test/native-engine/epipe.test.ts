import { describe, it, expect } from 'vitest';
import { run } from '../../src/util/proc.js';
import { ready, useNativeEngine } from './harness.js';
import { nativeBuild } from './support.js';

/** `exec … | head`: the reader closes the pipe early; the CLI ends quietly, as docker's does, without a Node stack trace. */
describe('a closed stdout', () => {
  const t = useNativeEngine();

  it('ends container exec quietly when the reader goes away, and the exec with it', async () => {
    await ready(t);
    const id = await t.container({ cmd: ['sleep', '600'] });
    const { cli } = await nativeBuild();
    const env = { ...process.env, ...t.root().env, NO_COLOR: '1' };
    const script = `"${process.execPath}" "${cli}" container exec ${id} sh -c 'yes | head -c 5000000' | head -c 10 >/dev/null; echo "cli=\${PIPESTATUS[0]}" >&2`;
    const r = await run('bash', ['-c', script], { env });
    expect(r.stderr).not.toMatch(/EPIPE|at .*\.js:\d+|node:internal/);
    expect(r.stderr).toMatch(/cli=(0|141)\n$/);
    // The exec'd process goes with the pipe (at its next write: SIGPIPE): then only PID 1 is left.
    let left: string[] = [];
    for (let i = 0; i < 200; i++) {
      left = (await t.engine().containers.top(id)).processes.map((p) => p[p.length - 1]!);
      if (left.length === 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(left).toEqual(['sleep 600']);
    await t.engine().containers.stop(id, 0);
  });
});
