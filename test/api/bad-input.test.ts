import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pack } from 'tar-stream';
import { IMAGE, eventually, ping, startService, type Service } from './support.js';

/**
 * Bad input to `tscompose system service` (issue 16, Build point 3), sent
 * byte by byte on the socket as a broken or hostile client would:
 * malformed JSON, unknown fields, huge bodies, a client that goes away
 * mid-stream, a build context that climbs out with `..`. Each gets a clean
 * error (Docker's JSON `{"message"}` with its status code), nothing is
 * half-made (no container, image or temp dir), and the server answers
 * /_ping afterwards.
 */

let service: Service;
const tag = randomBytes(3).toString('hex');

beforeAll(async () => {
  service = await startService();
}, 120_000);

afterAll(async () => {
  const left = service ? await service.stop() : [];
  expect(left, 'left on the host by the server').toEqual([]);
}, 120_000);

afterEach(async () => {
  expect(await ping(service.target.socket), 'the server answers /_ping after the bad input').toBe(true);
  // Build contexts are unpacked into the server's TMPDIR: none may stay behind.
  await eventually(async () => (readdirSync(service.tmp).length === 0 ? true : undefined), 10_000, `${service.tmp} empty`);
});

interface Reply { status: number; headers: string; body: string }

/** Sends raw bytes and reads the reply until the server closes or `Content-Length` is complete. */
function raw(chunks: Array<string | Buffer>, o: { keepSending?: () => Buffer | undefined } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = connect(service.target.socket);
    let got = Buffer.alloc(0);
    const done = () => {
      const text = got.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const headers = text.slice(0, end);
      const length = /\r\ncontent-length: *(\d+)/i.exec(headers);
      const body = got.subarray(end + 4);
      if (length && body.length < Number(length[1])) return false;
      s.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1]), headers, body: body.toString('utf8') });
      return true;
    };
    s.on('data', (b: Buffer) => {
      got = Buffer.concat([got, b]);
      done();
    });
    s.on('error', (err) => (got.length ? done() : reject(err)));
    s.on('close', () => done() || reject(new Error(`the connection closed without a complete reply: ${got.toString('latin1').slice(0, 300)}`)));
    s.on('connect', async () => {
      for (const c of chunks) s.write(c);
      // A huge body: more is written while the socket takes it, until the reply comes.
      for (let more = o.keepSending?.(); more && !s.destroyed; more = o.keepSending?.()) {
        if (!s.write(more)) await new Promise((r) => s.once('drain', r).once('close', r));
      }
    });
  });
}

function post(path: string, body: string | Buffer, contentType = 'application/json'): Promise<Reply> {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return raw([`POST ${path} HTTP/1.1\r\nHost: docker\r\nContent-Type: ${contentType}\r\nContent-Length: ${b.length}\r\nConnection: close\r\n\r\n`, b]);
}

function message(r: Reply): string {
  expect(r.headers).toMatch(/\r\ncontent-type: application\/json/i);
  return (JSON.parse(r.body) as { message: string }).message;
}

/** Opens a request and hands back the socket once what came matches `until` (a stream that is then left hanging). */
function openStream(head: string, until: RegExp): Promise<{ socket: Socket; first: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(service.target.socket);
    let got = '';
    const onData = (b: Buffer) => {
      got += b.toString('latin1');
      if (until.test(got)) {
        s.off('data', onData);
        resolve({ socket: s, first: got });
      }
    };
    s.on('data', onData);
    s.on('error', reject);
    s.on('connect', () => s.write(head));
  });
}

const docker = (args: string[]) => service.target.ok(args);
const containerNames = async () => (await docker(['ps', '-a', '--format', '{{.Names}}'])).trim();
const imageIds = async () => (await docker(['images', '-a', '-q', '--no-trunc'])).trim();

describe('malformed JSON and unknown fields: a 400 that names what is wrong, and no container', () => {
  it('malformed JSON', async () => {
    const r = await post(`/v1.41/containers/create?name=bad-json-${tag}`, `{"Image": "${IMAGE}", "Cmd": ["true"`);
    expect(r.status).toBe(400);
    expect(message(r)).toMatch(/^malformed JSON in the container config: /);
    expect(await containerNames()).not.toContain(`bad-json-${tag}`);
  });

  it('a body that is not a JSON object', async () => {
    const r = await post('/v1.41/networks/create', '["a", "list"]');
    expect(r.status).toBe(400);
    expect(message(r)).toBe('the network config must be a JSON object, not an array');
  });

  it('an unknown field, nested: named by its path', async () => {
    const r = await post(`/v1.41/containers/create?name=bad-field-${tag}`, JSON.stringify({ Image: IMAGE, Cmd: ['true'], HostConfig: { Memroy: 1 << 20 } }));
    expect(r.status).toBe(400);
    expect(message(r)).toBe('unknown field HostConfig.Memroy in the request body');
    expect(await containerNames()).not.toContain(`bad-field-${tag}`);
  });

  it('a field of the wrong type', async () => {
    const r = await post(`/v1.41/containers/create?name=bad-type-${tag}`, JSON.stringify({ Image: IMAGE, Cmd: 'true', Env: 'A=1' }));
    expect(r.status).toBe(400);
    expect(message(r)).toMatch(/^invalid Env: expected a list of strings, got "A=1"/);
    expect(await containerNames()).not.toContain(`bad-type-${tag}`);
  });

  it('not HTTP at all: dockerd\'s 400, and the connection closed', async () => {
    const r = await raw(['\x16\x03\x01 this is not HTTP\r\n\r\n']);
    expect(r.status).toBe(400);
    expect(message(r)).toMatch(/^bad request: /);
  });
});

describe('huge bodies: 413 before the body is read, and no container', () => {
  const LIMIT = 4 * 1024 * 1024;

  it('a declared Content-Length over the limit', async () => {
    const size = 64 * 1024 * 1024;
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const r = await raw([`POST /v1.41/containers/create?name=huge-${tag} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n{"Image": "${IMAGE}", "Labels": {"x": "`], {
      keepSending: () => (sent += chunk.length) <= size ? chunk : undefined,
    });
    expect(r.status).toBe(413);
    expect(message(r)).toBe(`request body of ${size} bytes is over the limit of ${LIMIT} bytes`);
    expect(sent, 'the server answered before the whole body came').toBeLessThan(size);
    expect(await containerNames()).not.toContain(`huge-${tag}`);
  });

  it('a chunked body that grows past the limit', async () => {
    const piece = Buffer.alloc(256 * 1024, 0x20);
    let sent = 0;
    const r = await raw([`POST /v1.41/containers/create?name=huge-chunked-${tag} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`], {
      // 32 MiB at most: the server must have answered long before.
      keepSending: () => (sent += piece.length) <= 32 * 1024 * 1024 ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : undefined,
    });
    expect(r.status).toBe(413);
    expect(message(r)).toBe(`request body is over the limit of ${LIMIT} bytes`);
    expect(await containerNames()).not.toContain(`huge-chunked-${tag}`);
  });
});

/** A tar of these entries. */
async function tarOf(entries: Array<{ name: string; body?: string; type?: 'file' | 'symlink'; linkname?: string }>): Promise<Buffer> {
  const p = pack();
  const out: Buffer[] = [];
  p.on('data', (b: unknown) => out.push(b as Buffer));
  const ended = new Promise<void>((r) => p.on('end', () => r()));
  for (const e of entries) {
    if (e.type === 'symlink') p.entry({ name: e.name, type: 'symlink', linkname: e.linkname ?? '' });
    else p.entry({ name: e.name, type: 'file', mode: 0o644 }, e.body ?? '');
  }
  p.finalize();
  await ended;
  return Buffer.concat(out);
}

describe('a build context that climbs out: refused before anything is built or written outside', () => {
  const DOCKERFILE = { name: 'Dockerfile', body: `FROM ${IMAGE}\nCOPY . /ctx\n` };

  it.each([
    ['".." in a name', [DOCKERFILE, { name: `../../escaped-${tag}`, body: 'out' }], /climbs out of the layer with "\.\."/],
    ['an absolute name', [DOCKERFILE, { name: `/tmp/escaped-${tag}`, body: 'out' }], /has an absolute path/],
    ['a write through a symbolic link of the same tar', [DOCKERFILE, { name: 'up', type: 'symlink' as const, linkname: '/tmp' }, { name: `up/escaped-${tag}`, body: 'out' }], /through the symbolic link "up"/],
  ])('%s', async (_what, entries, wanted) => {
    const before = await imageIds();
    const r = await post(`/v1.41/build?t=escape-${tag}:1`, await tarOf(entries), 'application/x-tar');
    expect(r.status).toBe(400);
    expect(message(r)).toMatch(wanted);
    // Where each entry would have landed from the context's temp dir (TMPDIR/tsc-api-build-*), or from /.
    for (const p of [join(service.tmp, `escaped-${tag}`), join(service.root.dir, `escaped-${tag}`), `/tmp/escaped-${tag}`]) expect(existsSync(p), p).toBe(false);
    expect(await imageIds()).toBe(before);
    expect((await service.target.docker(['image', 'inspect', `escape-${tag}:1`])).code).toBe(1);
  });
});

describe('a client that goes away mid-stream: the stream ends, nothing is half-made, the server serves on', () => {
  let ticker = '';

  beforeAll(async () => {
    ticker = (await docker(['run', '-d', '--name', `ticker-${tag}`, IMAGE, 'sh', '-c', 'while true; do echo tick; sleep 0.2; done'])).trim();
  });

  afterAll(async () => {
    if (ticker) await docker(['rm', '-f', ticker]);
  });

  it('logs -f: the follower is dropped, the container runs on, a new follower gets lines', async () => {
    const { socket, first } = await openStream(`GET /v1.41/containers/${ticker}/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: docker\r\n\r\n`, /tick/);
    expect(first).toMatch(/^HTTP\/1\.1 200/);
    socket.destroy();
    await sleep(500);
    expect((await docker(['inspect', '-f', '{{.State.Running}}', ticker])).trim()).toBe('true');
    const since = Math.floor(Date.now() / 1000);
    const again = await openStream(`GET /v1.41/containers/${ticker}/logs?follow=1&stdout=1&since=${since} HTTP/1.1\r\nHost: docker\r\n\r\n`, /tick/);
    again.socket.destroy();
    expect(again.first).toMatch(/^HTTP\/1\.1 200/);
  });

  it('events: the listener goes from /info when its client does', async () => {
    const listeners = async () => (JSON.parse(await docker(['info', '--format', '{{json .NEventsListener}}'])) as number);
    const base = await listeners();
    const { socket } = await openStream('GET /v1.41/events HTTP/1.1\r\nHost: docker\r\n\r\n', /\r\n\r\n/);
    expect(await listeners()).toBe(base + 1);
    socket.destroy();
    await eventually(async () => ((await listeners()) === base ? true : undefined), 5_000, 'the listener gone');
  });

  it('attach (a hijacked connection) dropped: the container runs on', async () => {
    const { socket, first } = await openStream(`POST /v1.41/containers/${ticker}/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n`, /\r\n\r\n/);
    expect(first).toMatch(/^HTTP\/1\.1 101/);
    socket.destroy();
    await sleep(500);
    expect((await docker(['inspect', '-f', '{{.State.Running}}', ticker])).trim()).toBe('true');
  });

  it('a build context cut off mid-upload: no image, no temp dir', async () => {
    const before = await imageIds();
    const ctx = await tarOf([{ name: 'Dockerfile', body: `FROM ${IMAGE}\nCOPY big /big\n` }, { name: 'big', body: 'x'.repeat(4 * 1024 * 1024) }]);
    const s = connect(service.target.socket);
    await new Promise((r) => s.once('connect', r));
    s.write(`POST /v1.41/build?t=cut-${tag}:1 HTTP/1.1\r\nHost: docker\r\nContent-Type: application/x-tar\r\nContent-Length: ${ctx.length}\r\n\r\n`);
    s.write(ctx.subarray(0, ctx.length / 2));
    await sleep(500);
    s.destroy();
    await sleep(500);
    expect(await imageIds()).toBe(before);
    expect((await service.target.docker(['image', 'inspect', `cut-${tag}:1`])).code).toBe(1);
  });

  it('an image archive cut off mid-load: no image, no tag', async () => {
    const before = await imageIds();
    const ref = `cut-load-${tag}:1`;
    await docker(['tag', IMAGE, ref]);
    const archive = await new Promise<Buffer>((resolve, reject) => {
      const s = connect(service.target.socket);
      const parts: Buffer[] = [];
      s.on('data', (b: Buffer) => parts.push(b));
      s.on('end', () => {
        const all = Buffer.concat(parts);
        resolve(all.subarray(all.indexOf('\r\n\r\n') + 4));
      });
      s.on('error', reject);
      // HTTP/1.0: the body ends with the connection, no chunked framing to take apart.
      s.write(`GET /v1.41/images/${encodeURIComponent(ref)}/get HTTP/1.0\r\nHost: docker\r\n\r\n`);
    });
    expect(archive.length).toBeGreaterThan(1024 * 1024);
    await docker(['rmi', ref]);
    const s = connect(service.target.socket);
    await new Promise((r) => s.once('connect', r));
    s.write(`POST /v1.41/images/load HTTP/1.1\r\nHost: docker\r\nContent-Type: application/x-tar\r\nContent-Length: ${archive.length}\r\n\r\n`);
    s.write(archive.subarray(0, archive.length / 2));
    await sleep(500);
    s.destroy();
    await sleep(500);
    expect(await imageIds()).toBe(before);
    expect((await service.target.docker(['image', 'inspect', ref])).code).toBe(1);
  });
});
