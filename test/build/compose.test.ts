import { describe, it, expect, afterEach } from 'vitest';
import { join } from 'node:path';
import { loadProject } from '../../src/project/load.js';
import { buildRequest } from '../../src/planner/images.js';
import { imageRef } from '../../src/planner/observe.js';
import { buildFromRequest, buildOptionsFromRequest } from '../../src/build/index.js';
import { checkNoLeaks, makeRuntimeRoot, runToEnd } from '../runtime/helpers.js';
import { removeContexts, writeContext } from './helpers.js';

/**
 * Compose's build section (context, dockerfile, dockerfile_inline, args,
 * target, network, tags, labels) through the Engine's BuildRequest, as the
 * native Engine's images.build will get it from the planner.
 */

afterEach(async () => {
  removeContexts();
  await checkNoLeaks();
});

describe('build: Compose build sections', () => {
  it('honours dockerfile, args, target, network, tags and labels', async () => {
    const root = await makeRuntimeRoot();
    const dir = writeContext({
      'svc/build/Dockerfile.custom': [
        'FROM busybox AS base',
        'ARG FLAVOUR=plain',
        'RUN echo "$FLAVOUR" > /flavour && grep -c ":" /proc/net/dev > /interfaces',
        'FROM base AS final',
        'RUN false',
      ].join('\n'),
      'compose.yaml': [
        'name: shop',
        'services:',
        '  web:',
        '    image: shop/web:dev',
        '    build:',
        '      context: ./svc',
        '      dockerfile: build/Dockerfile.custom',
        '      target: base',
        '      network: none',
        '      args:',
        '        FLAVOUR: from-compose',
        '      tags: ["shop/web:also"]',
        '      labels:',
        '        org.example.team: shop',
        '  inline:',
        '    build:',
        '      context: ./svc',
        '      dockerfile_inline: |',
        '        FROM busybox',
        '        RUN echo inline > /inline',
        '',
      ].join('\n'),
    });
    const project = await loadProject({ configFiles: [join(dir, 'compose.yaml')], environment: {} });
    const spec = buildRequest(project, 'web', imageRef(project, 'web'));
    const opts = buildOptionsFromRequest({ ...spec, tags: spec.tags });
    expect(opts).toMatchObject({ target: 'base', network: 'none', args: { FLAVOUR: 'from-compose' }, tags: ['shop/web:dev', 'shop/web:also'] });
    const lines: string[] = [];
    const id = await buildFromRequest({ store: root.store, runtime: root.runtime }, { ...spec, onProgress: (p) => lines.push(p.status) });
    expect(lines).toContain('Successfully tagged shop/web:also');
    const image = await root.store.get('shop/web:dev');
    expect(image.id).toBe(id);
    expect(image.repoTags.sort()).toEqual(['shop/web:also', 'shop/web:dev']);
    expect(image.config.config!.Labels).toMatchObject({ 'org.example.team': 'shop', 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' });
    const r = await runToEnd(root, { image: 'shop/web:dev', cmd: ['cat', '/flavour', '/interfaces'] });
    // With network none, RUN saw only the loopback interface.
    expect(r.stdout).toBe('from-compose\n1\n');
    await root.runtime.remove(r.id);

    const inline = buildRequest(project, 'inline', imageRef(project, 'inline'));
    await buildFromRequest({ store: root.store, runtime: root.runtime }, inline);
    const r2 = await runToEnd(root, { image: imageRef(project, 'inline'), cmd: ['cat', '/inline'] });
    expect(r2.stdout).toBe('inline\n');
    await root.runtime.remove(r2.id);
  });
});
