import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../support/cache.js';
import { ensureBuilt } from './helpers.js';

/**
 * tsc-init (native/init.c) on its own, outside a container: it is a plain
 * static binary. As tini: signals are passed on to the command, the
 * command's status is the init's, and SIGTTIN/SIGTTOU never stop the init
 * (it is in the background of its own terminal once the command's group
 * owns it, and a stopped init reaps nothing).
 */
const INIT = join(repoRoot, 'native', 'build', 'tsc-init');

function state(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0]!;
}

function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('tsc-init', () => {
  it('is built', async () => {
    await ensureBuilt();
    expect(spawnSync(INIT, []).status).toBe(2);
  });

  it('is not stopped by SIGTTIN or SIGTTOU, and still exits with the command\'s status', async () => {
    const init = spawn(INIT, ['--', 'sh', '-c', 'sleep 0.5; exit 7'], { stdio: 'ignore' });
    const done = exited(init);
    await sleep(100);
    process.kill(init.pid!, 'SIGTTIN');
    process.kill(init.pid!, 'SIGTTOU');
    await sleep(100);
    expect(state(init.pid!)).not.toBe('T');
    expect(await done).toBe(7);
  });

  it('passes a signal on to the command, whose death by it is 128+signal', async () => {
    const init = spawn(INIT, ['sleep', '30'], { stdio: 'ignore' });
    const done = exited(init);
    await sleep(100);
    process.kill(init.pid!, 'SIGTERM');
    expect(await done).toBe(128 + 15);
  });

  it('reaps the orphans it inherits as a subreaper', async () => {
    // The shell leaves a grandchild behind; it exits first and the init reaps it when it does.
    const init = spawn(INIT, ['sh', '-c', '(sleep 0.3 &) ; sleep 0.6'], { stdio: 'ignore' });
    const done = exited(init);
    await sleep(450);
    const children = readFileSync(`/proc/${init.pid}/task/${init.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    for (const c of children) expect(state(Number(c))).not.toBe('Z');
    expect(await done).toBe(0);
  });

  it('says why a command cannot run: 127 when it is not found, 126 when it cannot be executed', () => {
    const missing = spawnSync(INIT, ['/no/such/command'], { encoding: 'utf8' });
    expect(missing.status).toBe(127);
    expect(missing.stderr).toMatch(/tsc-init: exec \/no\/such\/command failed: No such file or directory/);
    expect(spawnSync(INIT, [join(repoRoot, 'package.json')], { encoding: 'utf8' }).status).toBe(126);
  });
});
