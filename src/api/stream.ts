import type { Duplex } from 'node:stream';
import { Writable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Docker's streams on the wire. Without a tty, a container's stdout and
 * stderr share one connection as frames: a header of 8 bytes (the stream,
 * 1 or 2, then three zero bytes, then the payload's length as a big-endian
 * uint32) and the payload. With a tty there is one raw stream. Attach and
 * exec take the connection over ("hijack") after a `101 UPGRADED` (or, for
 * clients that do not ask for an upgrade, an HTTP response streamed until
 * the process ends).
 */

export type StreamKind = 1 | 2;

export const RAW_STREAM = 'application/vnd.docker.raw-stream';

export function frameHeader(kind: StreamKind, length: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = kind;
  h.writeUInt32BE(length, 4);
  return h;
}

/** Where the bytes of a response go: a hijacked socket or a streamed HTTP response. */
export interface Sink {
  write(chunk: Buffer): boolean;
  once(event: 'drain', listener: () => void): unknown;
  readonly destroyed?: boolean;
  readonly writableEnded?: boolean;
}

/**
 * A Writable for one of the container's streams: framed (non-tty) or raw
 * (tty), with the sink's back-pressure passed on, and a sink that went
 * away (the client disconnected) swallowing what is still written.
 */
export function streamWriter(sink: Sink, kind: StreamKind, framed: boolean): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      if (sink.destroyed || sink.writableEnded || chunk.length === 0) return done();
      const ok = framed ? sink.write(Buffer.concat([frameHeader(kind, chunk.length), chunk])) : sink.write(chunk);
      if (ok || sink.destroyed) done();
      else sink.once('drain', () => done());
    },
  });
}

/** Takes over an upgraded connection: the 101 answer Docker's clients wait for, then raw bytes both ways. */
export function upgradeSocket(socket: Duplex, head: Buffer): Duplex {
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${RAW_STREAM}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  // Bytes the client sent right after its headers are its first input.
  if (head.length) socket.unshift(head);
  return socket;
}

/** A streamed response for a client that did not ask for an upgrade: output only, until the process ends. */
export function streamResponse(res: ServerResponse, contentType = RAW_STREAM): ServerResponse {
  res.writeHead(200, { 'Content-Type': contentType });
  res.flushHeaders();
  return res;
}

/** Whether the request asks to take the connection over (`Connection: Upgrade`, `Upgrade: tcp`). */
export function wantsUpgrade(req: IncomingMessage): boolean {
  return req.headers.upgrade !== undefined;
}

/** Resolves when the peer is gone (closed or errored), so that a follower can stop. */
export function gone(stream: { once(event: 'close', l: () => void): unknown }, signal?: AbortController): Promise<void> {
  return new Promise((resolve) => {
    stream.once('close', () => {
      signal?.abort();
      resolve();
    });
  });
}
