import { describe, it, expect, afterEach } from 'vitest';
import { checkNoLeaks, makeRuntimeRoot, runToEnd, sh } from './helpers.js';

afterEach(checkNoLeaks);

describe('runtime: run to completion', () => {
  it('runs a command, records its exit code and its output with timestamps', async () => {
    const root = await makeRuntimeRoot();
    const r = await runToEnd(root, sh('echo hello; echo oops >&2; printf partial; exit 3'));
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('hello\npartial');
    expect(r.stderr).toBe('oops\n');
    const info = await root.runtime.inspect(r.id);
    expect(info.State.Status).toBe('exited');
    expect(info.State.ExitCode).toBe(3);
    expect(info.State.Running).toBe(false);
    expect(Date.parse(info.State.FinishedAt)).toBeGreaterThanOrEqual(Date.parse(info.State.StartedAt));
    await root.runtime.remove(r.id);
    await expect(root.runtime.inspect(r.id)).rejects.toThrow(/No such container/);
  });
});
