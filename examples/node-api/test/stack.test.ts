import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ComposeError, ExecError, openEngine, up, type LogEntry } from 'tscompose';

const files = [fileURLToPath(new URL('../compose.yaml', import.meta.url))];
// One name per run and test, so that two runs on one machine never meet.
const name = (what: string) => `node-api-${what}-${process.pid}`;

/** What the engine still holds of a project: nothing, once it is down. */
async function leftovers(project: string) {
  const engine = await openEngine();
  try {
    const labels = { 'com.docker.compose.project': project };
    return {
      containers: (await engine.containers.list({ all: true, labels })).map((c) => c.name),
      networks: (await engine.networks.list({ labels })).map((n) => n.name),
      volumes: (await engine.volumes.list({ labels })).map((v) => v.name),
    };
  } finally {
    await engine.close();
  }
}
const nothing = { containers: [], networks: [], volumes: [] };

describe('a stack in a test', () => {
  it('comes up, answers on its published port, runs commands, and goes with its volumes', async () => {
    let project = '';
    {
      await using stack = await up({ files, projectName: name('up'), wait: true });
      project = stack.name;

      const port = await stack.port('web', 80);
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(await res.text()).toBe('hello from web\n');

      // The web server finds its neighbour by its service name, on the project's network.
      expect((await stack.exec('web', ['nslookup', 'counter'])).stdout).toMatch(/Name:\s+counter/);
      expect((await stack.exec('counter', ['cat', '/data/runs'])).stdout).toBe('started\n');
      await expect(stack.exec('counter', ['cat', '/no/such/file'])).rejects.toBeInstanceOf(ExecError);

      const lines: LogEntry[] = [];
      for await (const line of stack.logs({ services: ['web'], follow: true })) {
        lines.push(line);
        if (line.text.includes('response:200')) break; // httpd -v logs each answer; leaving the loop stops following
      }
      expect(lines.at(-1)).toMatchObject({ service: 'web', stream: 'stderr' });

      expect((await stack.ps()).map((c) => c.labels['com.docker.compose.service']).sort()).toEqual(['counter', 'web']);
    }
    // The scope has ended: the stack is down, its volume too.
    expect(await leftovers(project)).toEqual(nothing);
  });

  it('reports each event of its containers as they happen', async () => {
    await using stack = await up({ files, projectName: name('events'), services: ['counter'], wait: true });
    const stop = new AbortController();
    const actions: string[] = [];
    const seen = (async () => {
      for await (const e of stack.events({ signal: stop.signal })) {
        actions.push(`${e.service} ${e.action}`);
        if (e.action === 'start') stop.abort();
      }
    })();
    await stack.restart(['counter'], { timeout: 0 });
    await seen;
    expect(actions).toContain('counter stop');
    expect(actions.at(-1)).toBe('counter start');
  });

  it('takes the stack down when the scope ends in an error, leaving nothing behind', async () => {
    let project = '';
    const failing = async () => {
      await using stack = await up({ files, projectName: name('throws'), wait: true });
      project = stack.name;
      expect((await stack.exec('counter', ['cat', '/data/runs'])).stdout).toBe('started\n');
      throw new Error('the test failed here');
    };
    await expect(failing()).rejects.toThrow('the test failed here');
    expect(project).not.toBe('');
    expect(await leftovers(project)).toEqual(nothing);
  });

  // A test that fails inside the scope (vitest records it as the expected failure)...
  it.fails('fails inside the scope of its stack', async () => {
    await using stack = await up({ files, projectName: name('fails'), wait: true });
    expect(await stack.port('web', 80)).toBe(-1);
  });
  // ...left nothing behind when it ended.
  it('leaves nothing of the failed test behind', async () => {
    expect(await leftovers(name('fails'))).toEqual(nothing);
  });

  it('names the file, line and column of a mistake in the compose file', async () => {
    const bad = fileURLToPath(new URL('./bad-compose.yaml', import.meta.url));
    const composeError = await up({ files: [bad], projectName: name('bad') }).catch((e: unknown) => e);
    expect(composeError).toBeInstanceOf(ComposeError);
    expect(composeError).toMatchObject({ file: bad, line: 4, column: 5 });
    expect(await leftovers(name('bad'))).toEqual(nothing);
  });
});
