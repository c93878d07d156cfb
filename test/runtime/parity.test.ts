import { describe, it, expect, afterEach, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ensureDockerd } from '../support/docker.js';
import { busyboxRootfsTar } from '../support/images.js';
import { checkNoLeaks, makeRuntimeRoot, runToEnd, type RuntimeRoot } from './helpers.js';

/**
 * Differential tests: the same image, the same request, on a real Docker
 * Engine and on ours; what the process inside sees must be the same.
 */
const tag = `tsc-rt-parity:${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  await ensureDockerd();
  execFileSync('docker', ['import', await busyboxRootfsTar(), tag], { stdio: 'ignore' });
});
afterAll(() => {
  execFileSync('docker', ['rmi', '-f', tag], { stdio: 'ignore' });
});
afterEach(checkNoLeaks);

function docker(args: string[], cmd: string[]): string {
  return execFileSync('docker', ['run', '--rm', '--network', 'none', ...args, tag, ...cmd], { encoding: 'utf8' });
}

async function ours(root: RuntimeRoot, spec: Parameters<RuntimeRoot['create']>[0]): Promise<string> {
  const r = await runToEnd(root, spec);
  await root.runtime.remove(r.id);
  return r.stdout;
}

describe('runtime vs docker run: what the container sees', () => {
  it('resolves users and groups as runc does (id)', async () => {
    const root = await makeRuntimeRoot();
    for (const user of ['', 'nobody', '1000', '1000:50', 'user', 'user:nogroup', '12345', '12345:777']) {
      const d = docker(user ? ['-u', user] : [], ['id']);
      expect(await ours(root, { cmd: ['id'], ...(user ? { user } : {}) }), `user "${user}"`).toBe(d);
    }
    expect(await ours(root, { cmd: ['id'], user: 'user', groupAdd: ['nogroup'] })).toBe(docker(['-u', 'user', '--group-add', 'nogroup'], ['id']));
  });

  it('gives the same environment, working directory and umask', async () => {
    const root = await makeRuntimeRoot();
    const script = ['env | grep -v ^HOSTNAME= | sort', 'pwd', 'umask'].join('; ');
    const cases: Array<[string[], Parameters<RuntimeRoot['create']>[0]]> = [
      [[], {}],
      [['-u', 'user', '-w', '/tmp/new/dir', '-e', 'A=1'], { user: 'user', workingDir: '/tmp/new/dir', env: ['A=1'] }],
      [['-t'], { tty: true }],
    ];
    for (const [flags, spec] of cases) {
      const d = docker([...flags], ['sh', '-c', script]).replace(/\r/g, '');
      const o = (await ours(root, { cmd: ['sh', '-c', script], ...spec })).replace(/\r/g, '');
      expect(o, JSON.stringify(flags)).toBe(d);
    }
  });
});
