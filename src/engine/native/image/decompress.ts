import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { UserError } from '../../../util/errors.js';

/**
 * Layer and archive streams arrive gzip-compressed or plain; the format is
 * detected by its magic bytes (as Docker does), whatever a media type or file
 * name claims. Node 20's zlib has neither zstd nor xz nor bzip2: those are
 * refused with a sentence that says what to do.
 */
export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

export function detectCompression(head: Uint8Array): Compression {
  const b = head;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return 'zstd';
  if (b.length >= 6 && b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a && b[5] === 0x00) return 'xz';
  if (b.length >= 3 && b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68) return 'bzip2';
  return 'none';
}

/**
 * Reads at least `n` bytes (fewer at end of stream) and returns them with a
 * stream that still yields every byte: the same stream with the bytes put
 * back, or a new one when the input already ended (a tiny input).
 */
export async function peek(stream: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let len = 0;
  let ended = false;
  while (len < n && !ended) {
    const chunk = stream.read() as Buffer | null;
    if (chunk !== null) {
      chunks.push(chunk);
      len += chunk.length;
      continue;
    }
    ended = await new Promise<boolean>((resolve, reject) => {
      const cleanup = () => {
        stream.off('readable', onReadable);
        stream.off('end', onEnd);
        stream.off('error', onError);
      };
      const onReadable = () => { cleanup(); resolve(false); };
      const onEnd = () => { cleanup(); resolve(true); };
      const onError = (err: Error) => { cleanup(); reject(err); };
      if (stream.readableEnded) return resolve(true);
      if (stream.errored) return reject(stream.errored);
      stream.on('readable', onReadable);
      stream.on('end', onEnd);
      stream.on('error', onError);
    });
  }
  const head = Buffer.concat(chunks);
  if (ended || stream.readableEnded) return { head, stream: Readable.from(head.length ? [head] : []) };
  if (head.length) stream.unshift(head);
  return { head, stream };
}

/**
 * Returns the uncompressed stream of `input` and what it was. `what` names the
 * thing in errors (e.g. `layer sha256:ab12... of image.tar`).
 */
export async function decompressed(input: Readable, what: string): Promise<{ stream: Readable; compression: Compression }> {
  const peeked = await peek(input, 6);
  input = peeked.stream;
  const compression = detectCompression(peeked.head);
  switch (compression) {
    case 'none':
      return { stream: input, compression };
    case 'gzip': {
      const gunzip = createGunzip({ chunkSize: 64 * 1024 });
      input.on('error', (err) => gunzip.destroy(err));
      return { stream: input.pipe(gunzip), compression };
    }
    default:
      input.destroy();
      throw new UserError(`${what} is ${compression}-compressed, which tscompose cannot read (Node 20's zlib has gzip only)`, 1,
        `Decompress it first (e.g. ${compression === 'zstd' ? 'zstd -d' : compression === 'xz' ? 'xz -d' : 'bunzip2'}), or recompress it with gzip`);
  }
}
