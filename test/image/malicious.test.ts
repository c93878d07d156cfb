import { describe, it, expect, afterEach, beforeEach } from 'vitest';
import { mkdirSync, writeFileSync, readdirSync, statSync, lstatSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LayerRefusedError, type ImageStore } from '../../src/engine/native/image/index.js';
import { makeTestRoot, type TestRoot } from './helpers.js';
import { makeTar, type TarEntry } from './tars.js';

/**
 * Layers that try to write outside their dir (CVE-2014-6407, CVE-2014-9356,
 * CVE-2021-32760 and friends): each is refused with a sentence saying why,
 * nothing outside the store changes (a canary dir next to it), and nothing
 * of the layer is kept (no layer dir, no staging dir).
 */
let root: TestRoot;
let store: ImageStore;
let canary: string;

beforeEach(async () => {
  root = makeTestRoot('tsc-image-evil-');
  store = await root.store();
  canary = join(root.dir, 'canary');
  mkdirSync(join(canary, 'dir'), { recursive: true, mode: 0o755 });
  writeFileSync(join(canary, 'victim'), 'original\n', { mode: 0o644 });
  writeFileSync(join(canary, 'dir', 'inner'), 'inner\n', { mode: 0o600 });
});

afterEach(() => root.cleanup());

/** Every path under the canary with its type, mode, owner, size and content: must not change. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      out.push(`${p} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.isFile() ? readFileSync(p, 'utf8') : ''}`);
      if (st.isDirectory()) walk(p);
    }
  };
  out.push(`${dir} ${statSync(dir).mode.toString(8)}`);
  walk(dir);
  return out;
}

async function expectRefused(entries: TarEntry[], message: RegExp): Promise<void> {
  const before = snapshot(canary);
  const tar = await makeTar(entries);
  const err = await store.addLayerFromTar(Readable.from([tar]), { what: 'test layer' }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(LayerRefusedError);
  expect((err as Error).message).toMatch(/^test layer refused: /);
  expect((err as Error).message).toMatch(message);
  expect(snapshot(canary)).toEqual(before);
  expect(readdirSync(join(store.root, 'layers'))).toEqual([]);
  expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
  expect(readdirSync(join(store.root, 'l'))).toEqual([]);
}

describe('malicious layers are refused and leave nothing behind', () => {
  it('refuses ../ paths', async () => {
    await expectRefused([
      { name: 'ok.txt', content: 'fine' },
      { name: '../../canary/victim', content: 'pwned' },
    ], /entry "..\/..\/canary\/victim" climbs out of the layer with "\.\."/);
    await expectRefused([{ name: 'a/../../x', content: 'pwned' }], /climbs out/);
  });

  it('refuses absolute paths', async () => {
    await expectRefused([{ name: join(canary, 'victim'), content: 'pwned' }], /has an absolute path/);
  });

  it('refuses writing through a symlink an earlier entry planted (absolute and relative targets)', async () => {
    await expectRefused([
      { name: 'evil', type: 'symlink', linkname: canary },
      { name: 'evil/victim', content: 'pwned' },
    ], /entry "evil\/victim" would be written through the symbolic link "evil"/);
    await expectRefused([
      { name: 'up', type: 'symlink', linkname: '../../../../../../../../' + canary.slice(1) },
      { name: 'up/dir/new', content: 'pwned' },
    ], /through the symbolic link "up"/);
    // The final component: a file entry over a symlink of the same name.
    await expectRefused([
      { name: 'f', type: 'symlink', linkname: join(canary, 'victim') },
      { name: 'f', content: 'pwned' },
    ], /comes after a symbolic link of the same name/);
  });

  it('refuses hardlinks to outside the layer', async () => {
    await expectRefused([{ name: 'h', type: 'link', linkname: join(canary, 'victim') }], /hardlink target of "h": "\/.*" has an absolute path/);
    await expectRefused([{ name: 'h', type: 'link', linkname: '../../canary/victim' }], /climbs out/);
    await expectRefused([
      { name: 's', type: 'symlink', linkname: canary },
      { name: 'h', type: 'link', linkname: 's/victim' },
    ], /entry "h" would reach through the symbolic link "s"/);
    await expectRefused([{ name: 'h', type: 'link', linkname: 'not/here' }], /hardlink "h" points to "not\/here"|not a directory of the layer/);
  });

  it('refuses whiteouts naming a path outside, directly or through a symlinked parent', async () => {
    await expectRefused([{ name: '../.wh.victim' }], /climbs out/);
    await expectRefused([
      { name: 'd', type: 'symlink', linkname: canary },
      { name: 'd/.wh.victim' },
    ], /entry "d\/.wh.victim" would be written through the symbolic link "d"/);
    await expectRefused([
      { name: 'd', type: 'symlink', linkname: canary },
      { name: 'd/.wh..wh..opq' },
    ], /through the symbolic link "d"/);
    await expectRefused([{ name: 'x/.wh...' }], /whiteout "x\/.wh..." names no file/);
  });

  it('refuses chmod and chown through a symlink', async () => {
    await expectRefused([
      { name: 'd', type: 'symlink', linkname: join(canary, 'dir') },
      { name: 'd', type: 'directory', mode: 0o777, uid: 1234 },
    ], /entry "d" \(directory\) comes after a symbolic link of the same name/);
    await expectRefused([
      { name: 'f', type: 'symlink', linkname: join(canary, 'victim') },
      { name: 'f', type: 'link', linkname: 'g' },
    ], /comes after a symbolic link/);
  });

  it('refuses trusted.* extended attributes (they would forge overlay metadata)', async () => {
    await expectRefused([
      { name: 'dir', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } },
    ], /carries the extended attribute "trusted.overlay.opaque"/);
  });

  it('refuses a tar that is not a tar, and a layer bigger than declared', async () => {
    const err = await store.addLayerFromTar(Readable.from([Buffer.alloc(2048, 7)]), { what: 'junk' }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^junk refused: it is not a readable tar/);
    const big = await makeTar([{ name: 'x', content: Buffer.alloc(100_000) }]);
    const err2 = await store.addLayerFromTar(Readable.from([big]), { what: 'bomb', maxBytes: 50_000 }).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/^bomb refused: it is larger than the 50000 bytes/);
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
    expect(existsSync(join(store.root, 'layers'))).toBe(true);
  });
});
