import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { UserError } from '../../../util/errors.js';

/**
 * A pass-through that hashes a blob as it streams and refuses it when its
 * size or sha256 is not what the manifest says. The last chunk is held back
 * until the digest is known: whoever consumes the stream (the layer
 * unpacker) never sees its end unless the blob is right, so a bad blob
 * fails the unpack and nothing of it is kept.
 */
export class BlobRefusedError extends UserError {
  constructor(what: string, why: string) {
    super(`${what} refused: ${why}`, 1, 'The registry, or something between it and us, served other bytes than the manifest names; nothing of the blob was kept');
    this.name = 'BlobRefusedError';
  }
}

export class DigestVerifier extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private held: Buffer | undefined;
  bytes = 0;

  constructor(
    private readonly digest: string,
    private readonly size: number | undefined,
    private readonly what: string,
    private readonly onBytes?: (n: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.size !== undefined && this.bytes > this.size) {
      cb(new BlobRefusedError(this.what, `it is longer than the ${this.size} bytes its descriptor gives`));
      return;
    }
    this.hash.update(chunk);
    this.onBytes?.(this.bytes);
    const prev = this.held;
    this.held = chunk;
    cb(null, prev);
  }

  override _flush(cb: TransformCallback): void {
    if (this.size !== undefined && this.bytes !== this.size) {
      cb(new BlobRefusedError(this.what, `it has ${this.bytes} bytes, its descriptor says ${this.size}`));
      return;
    }
    const got = `sha256:${this.hash.digest('hex')}`;
    if (got !== this.digest) {
      cb(new BlobRefusedError(this.what, `its content hashes to ${got}, not to its digest ${this.digest}`));
      return;
    }
    cb(null, this.held);
  }
}
