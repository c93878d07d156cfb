import { describe, it, expect, afterEach } from 'vitest';
import { commitContainer } from '../../src/build/commit.js';
import { tar } from '../../src/engine/native/image/tarlib.js';
import { checkNoLeaks, makeRuntimeRoot, runToEnd, sh, type RuntimeRoot } from '../runtime/helpers.js';

/** Acceptance 4: a container's new file becomes one more layer of a new image. */

afterEach(checkNoLeaks);

async function layerEntries(root: RuntimeRoot, chainId: string): Promise<Map<string, string>> {
  const extract = tar.extract();
  const out = new Map<string, string>();
  extract.on('entry', (h, s, next) => {
    let body = '';
    s.on('data', (c: unknown) => { body += String(c); });
    s.on('end', () => { out.set(h.name, body); next(); });
  });
  const done = new Promise<void>((r, j) => { extract.on('finish', r); extract.on('error', j); });
  root.store.layerTar(chainId).pipe(extract);
  await done;
  return out;
}

describe('commit', () => {
  it('turns a container\'s new file into one more layer, with author, message and changes', async () => {
    const root = await makeRuntimeRoot();
    const base = await root.store.get('busybox:latest');
    const r = await runToEnd(root, { ...sh('echo committed > /newfile && rm /etc/group'), env: ['FROM_CONTAINER=1'], workingDir: '/tmp' });
    expect(r.code).toBe(0);
    const image = await commitContainer({ store: root.store, runtime: root.runtime }, r.id, {
      tag: 'committed:1', author: 'Ada <ada@example.com>', message: 'add newfile',
      changes: ['CMD ["cat", "/newfile"]', 'ENV ADDED=yes', 'EXPOSE 7000', 'LABEL stage=committed', 'WORKDIR sub'],
    });
    expect(image.repoTags).toEqual(['committed:1']);
    expect(image.chainIds.length).toBe(base.chainIds.length + 1);
    expect(image.chainIds.slice(0, -1)).toEqual(base.chainIds);
    const entries = await layerEntries(root, image.chainIds.at(-1)!);
    expect(entries.get('newfile')).toBe('committed\n');
    expect(entries.has('etc/.wh.group')).toBe(true);
    // The runtime's mount points for hosts/hostname/resolv.conf are not part of the change.
    expect([...entries.keys()].filter((n) => /etc\/(hosts|hostname|resolv\.conf)$/.test(n))).toEqual([]);
    const cfg = image.config.config!;
    expect(cfg.Cmd).toEqual(['cat', '/newfile']);
    expect(cfg.Env).toEqual(expect.arrayContaining(['FROM_CONTAINER=1', 'ADDED=yes']));
    expect(cfg.ExposedPorts).toEqual({ '7000/tcp': {} });
    expect(cfg.Labels).toEqual({ stage: 'committed' });
    expect(cfg.WorkingDir).toBe('/tmp/sub');
    expect(image.config.author).toBe('Ada <ada@example.com>');
    expect(image.config.history!.at(-1)).toMatchObject({ author: 'Ada <ada@example.com>', comment: 'add newfile', created_by: 'sh -c echo committed > /newfile && rm /etc/group' });
    await root.runtime.remove(r.id);

    const again = await runToEnd(root, { image: 'committed:1', workingDir: '/' });
    expect(again.stdout).toBe('committed\n');
    await root.runtime.remove(again.id);
  });

  it('commits a running container and refuses a bad change', async () => {
    const root = await makeRuntimeRoot();
    const id = await root.create(sh('echo live > /live; exec sleep 60'));
    await root.runtime.start(id);
    for (let i = 0; i < 100; i++) {
      const l = await root.store.rootfsLayout(id);
      if (l && (await import('node:fs')).existsSync(`${l.upperDir}/live`)) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    const deps = { store: root.store, runtime: root.runtime };
    await expect(commitContainer(deps, id, { changes: ['RUN echo no'] })).rejects.toThrow(/^--change:1: RUN cannot be applied with --change/);
    await expect(commitContainer(deps, id, { changes: ['CMD ok', 'EXPOSE 80/nope'] })).rejects.toThrow(/^--change:2: invalid proto "nope"/);
    const image = await commitContainer(deps, id);
    expect(image.repoTags).toEqual([]);
    expect((await layerEntries(root, image.chainIds.at(-1)!)).get('live')).toBe('live\n');
    await root.runtime.remove(id, { force: true });
  });
});
