import { describe, it, expect, beforeAll, afterEach, beforeEach } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { busyboxRootfsTar } from '../support/images.js';
import { repoRoot } from '../support/cache.js';
import { cli, makeTestRoot, type TestRoot } from './helpers.js';
import { makeTar } from './tars.js';

/**
 * The `tscompose image` verbs as a user meets them: docker's messages and
 * exit codes, bad input refused with a sentence, nothing half-created.
 */
let root: TestRoot;
let busybox: string;

beforeAll(async () => {
  busybox = await busyboxRootfsTar();
});

beforeEach(() => {
  root = makeTestRoot('tsc-image-cli-');
});

afterEach(() => root.cleanup());

const run = (...args: string[]) => cli(root, args);

function importBusybox(ref: string, ...changes: string[]): string {
  const r = run('image', 'import', ...changes.flatMap((c) => ['-c', c]), busybox, ref);
  expect(r.stderr).toBe('');
  return r.stdout.trim();
}

describe('tscompose image', () => {
  it('tags, untags and removes as docker rmi does', () => {
    const id = importBusybox('bb:1');
    const short = id.slice(7, 19);
    expect(run('image', 'tag', 'bb:1', 'bb:2').code).toBe(0);
    expect(run('image', 'tag', short, 'registry.local:5000/bb').code).toBe(0);
    expect(run('image', 'ls', 'bb', '--format', '{{.Repository}}:{{.Tag}}').stdout).toBe('bb:1\nbb:2\n');
    expect(run('image', 'ls', '-q').stdout).toBe(`${short}\n`);
    // From stdin too, with Docker's default comment for it.
    const piped = cli(root, ['image', 'import', '-', 'piped'], readFileSync(busybox));
    expect(piped.stderr).toBe('');
    expect(JSON.parse(run('image', 'inspect', 'piped').stdout)[0].Comment).toBe('Imported from -');
    expect(run('image', 'rm', 'piped').code).toBe(0);
    expect(run('image', 'ls', '--no-trunc', '-q').stdout).toBe(`${id}\n`);

    const byId = run('image', 'rm', short);
    expect(byId.code).toBe(1);
    expect(byId.stderr).toBe(`Error: conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories\n`);
    expect(run('image', 'rm', 'bb:1').stdout).toBe('Untagged: bb:1\n');
    expect(run('image', 'rm', 'bb:2').stdout).toBe('Untagged: bb:2\n');
    const last = run('image', 'rm', 'registry.local:5000/bb');
    expect(last.stdout).toMatch(new RegExp(`^Untagged: registry.local:5000/bb:latest\\nDeleted: ${id}\\nDeleted: sha256:[0-9a-f]{64}\\n$`));
    expect(run('image', 'ls', '-q').stdout).toBe('');

    const missing = run('image', 'rm', 'nothere', 'neither');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('Error: No such image: nothere\nError: No such image: neither\n');
  });

  it('filters image ls as docker does', () => {
    const labelled = importBusybox('bb:1', 'LABEL team=core');
    const plain = importBusybox('bb:1'); // takes the tag: the labelled image is now dangling
    importBusybox('other:2');
    const ls = (...f: string[]) => run('image', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}', ...f.flatMap((x) => ['--filter', x])).stdout;
    expect(ls('dangling=true')).toBe(`${labelled} <none>:<none>\n`);
    expect(ls('label=team=core')).toBe(`${labelled} <none>:<none>\n`);
    expect(ls('reference=b*')).toBe(`${plain} bb:1\n`);
    expect(ls('reference=*:2', 'dangling=false')).toMatch(/ other:2\n$/);
    expect(ls(`before=other:2`).split('\n').filter(Boolean)).toHaveLength(2);
    const bad = run('image', 'ls', '-f', 'size=1');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^invalid filter 'size'\n/);
  });

  it('inspects with docker\'s shape and --format, and shows history', () => {
    const id = importBusybox('bb', 'ENV A=1', 'CMD ["sh"]', 'LABEL team=core');
    const [img] = JSON.parse(run('image', 'inspect', 'bb').stdout);
    expect(Object.keys(img)).toEqual(expect.arrayContaining(['Id', 'RepoTags', 'RepoDigests', 'Created', 'Config', 'Architecture', 'Os', 'Size', 'RootFS', 'GraphDriver', 'Metadata']));
    expect(img.Id).toBe(id);
    expect(img.Config).toEqual({ Env: ['A=1'], Cmd: ['sh'], Labels: { team: 'core' } });
    expect(run('image', 'inspect', '-f', '{{.Id}} {{json .Config.Labels}}', 'bb').stdout).toBe(`${id} {"team":"core"}\n`);
    const both = run('image', 'inspect', 'bb', 'nothere');
    expect(both.code).toBe(1);
    expect(JSON.parse(both.stdout)).toHaveLength(1);
    expect(both.stderr).toBe('Error: No such image: nothere\n');

    const history = run('image', 'history', 'bb').stdout.split('\n');
    expect(history[0]).toMatch(/^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$/);
    expect(history[1]).toMatch(new RegExp(`^${id.slice(7, 19)} +.* ago +[12]\\.\\d+MB +Imported from ${busybox.replace(/[.]/g, '\\.')}$`));
  });

  it('refuses bad input with a sentence and creates nothing', async () => {
    const badName = run('image', 'import', busybox, 'Not_Lower');
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/^invalid reference format: repository name \(library\/Not_Lower\) must be lowercase\n/);
    const badChange = run('image', 'import', '-c', 'RUN rm -rf /', busybox, 'x');
    expect(badChange.code).toBe(1);
    expect(badChange.stderr).toMatch(/^--change:1: RUN cannot be applied with --change\n/);
    const evil = join(root.dir, 'evil.tar');
    writeFileSync(evil, await makeTar([{ name: 'ok', content: 'x' }, { name: '../../../etc/evil', content: 'x' }]));
    const refused = run('image', 'import', evil, 'evil');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`the root filesystem tar ${evil} refused: entry "../../../etc/evil" climbs out of the layer with ".."\nThe layer is malformed or malicious; nothing of it was kept.\n`);
    const noFile = run('image', 'import', join(root.dir, 'nope.tar'), 'x');
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toBe(`open ${join(root.dir, 'nope.tar')}: no such file or directory\n`);
    const store = join(root.state, 'image');
    expect(readdirSync(join(store, 'layers'))).toEqual([]);
    expect(readdirSync(join(store, 'images'))).toEqual([]);
    expect(readdirSync(join(store, 'tmp'))).toEqual([]);

    const out = join(root.dir, 'out.tar');
    const save = run('image', 'save', '-o', out, 'nothere');
    expect(save.code).toBe(1);
    expect(save.stderr).toBe('No such image: nothere\n');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(root.dir).filter((n) => n.includes('out.tar'))).toEqual([]);
  });

  it('prunes dangling images, then all unused ones', () => {
    const keep = importBusybox('keep');
    const dangling = importBusybox('gone');
    run('image', 'rm', 'gone'); // the last tag: deleted outright, as docker does
    importBusybox('retag');
    const second = importBusybox('retag'); // the first "retag" image is now dangling
    const pruned = run('image', 'prune', '-f');
    expect(pruned.stdout).toMatch(/^Deleted Images:\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: 0B\n$/);
    expect(run('image', 'ls', '-q', '--no-trunc').stdout.split('\n').filter(Boolean).sort()).toEqual([keep, second].sort());
    void dangling;
    const all = run('image', 'prune', '-a', '-f');
    expect(all.stdout).toContain('untagged: keep:latest');
    expect(all.stdout).toMatch(/Total reclaimed space: [12]\.\d+MB\n$/);
    expect(run('image', 'ls', '-q').stdout).toBe('');
    expect(readdirSync(join(root.state, 'image', 'layers'))).toEqual([]);
  });

  it('needs root, and says so', () => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', join(repoRoot, 'bin', 'tscompose'), 'image', 'ls'], {
      env: root.env, encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tscompose image needs root/);
  });
});
