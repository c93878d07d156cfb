import { createWriteStream, createReadStream, openSync, readSync, closeSync, fstatSync, constants as fsc } from 'node:fs';
import { createGzip, createGunzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import type { Writable } from 'node:stream';

/**
 * A layer's tar, kept without keeping its bytes twice (the idea of Docker's
 * tar-split): while a layer is unpacked, every byte of the tar that is not the
 * content of a regular file (headers, PAX records, padding, the end blocks) is
 * recorded, in order, with a reference to the file whose content came next.
 * Played back against the unpacked dir, the recipe gives the tar again, byte
 * for byte, so `save` (and later push) produces the very blob whose digest is
 * the layer's DiffID; playback checks that digest and fails if the dir no
 * longer matches.
 *
 * Recipe file (gzip): frames of
 *   0x01 u32be:length bytes         raw tar bytes
 *   0x02 u64be:size u32be:content   `size` bytes of content number `content`
 * and content numbers map to paths in a separate table (contents.json), so a
 * file that a later entry of the same tar replaced can be kept aside.
 */

const FRAME_RAW = 0x01;
const FRAME_CONTENT = 0x02;
const RAW_FLUSH = 256 * 1024;
const BATCH_FLUSH = 512 * 1024;

export class RecipeRecorder {
  private readonly out: Writable;
  private readonly closed: Promise<void>;
  private pending: Buffer[] = [];
  private pendingStart = 0; // absolute offset of pending[0][0]
  private received = 0; // absolute offset of the next byte to arrive
  private handled = 0; // bytes before this offset are written or dropped
  private contentEnd = 0; // [handled, contentEnd) is file content, to drop
  private raw: Buffer[] = [];
  private batch: Buffer[] = [];
  private batchLen = 0;
  private rawLen = 0;
  private nextContent = 0;

  constructor(path: string) {
    const file = createWriteStream(path, { mode: 0o600 });
    const gz = createGzip({ level: 1 });
    gz.pipe(file);
    this.out = gz;
    this.closed = new Promise((resolve, reject) => {
      file.on('finish', resolve);
      file.on('error', reject);
      gz.on('error', reject);
    });
    this.closed.catch(() => { /* reported by finish() */ });
  }

  /** Every byte of the tar, in order, before the tar parser sees it. */
  feed(chunk: Buffer): void {
    this.pending.push(chunk);
    this.received += chunk.length;
    this.advance(this.contentEnd, false);
  }

  /** The parser reached an entry whose data starts at `dataStart`: all before it is raw. */
  settle(dataStart: number): void {
    this.advance(dataStart, true);
  }

  /**
   * The parser found a regular file whose `size` content bytes start at
   * absolute offset `dataStart`. Returns the content number to map to a path.
   */
  content(dataStart: number, size: number): number {
    this.advance(dataStart, true);
    this.flushRaw();
    const frame = Buffer.alloc(13);
    frame[0] = FRAME_CONTENT;
    frame.writeBigUInt64BE(BigInt(size), 1);
    const n = this.nextContent++;
    frame.writeUInt32BE(n, 9);
    this.emit(frame);
    this.contentEnd = dataStart + size;
    this.advance(this.contentEnd, false);
    return n;
  }

  /** The tar ended: what remains is raw (end-of-archive blocks). */
  async finish(): Promise<void> {
    this.advance(this.received, true);
    this.flushRaw();
    this.flushBatch();
    this.out.end();
    await this.closed;
  }

  /** Gives up (the layer was refused): closes the file; the caller deletes it. */
  async abort(): Promise<void> {
    this.out.end();
    await this.closed.catch(() => undefined);
  }

  /**
   * Handles pending bytes up to `limit`: bytes inside the current content
   * range are dropped, others are raw if `rawAllowed` (otherwise they wait,
   * because the parser has not yet said what they are).
   */
  private advance(limit: number, rawAllowed: boolean): void {
    limit = Math.min(limit, this.received);
    while (this.handled < limit && this.pending.length) {
      const head = this.pending[0]!;
      const offsetInHead = this.handled - this.pendingStart;
      const available = head.length - offsetInHead;
      let take: number;
      if (this.handled < this.contentEnd) {
        take = Math.min(available, this.contentEnd - this.handled, limit - this.handled);
      } else {
        if (!rawAllowed) break;
        take = Math.min(available, limit - this.handled);
        this.pushRaw(head.subarray(offsetInHead, offsetInHead + take));
      }
      this.handled += take;
      if (offsetInHead + take === head.length) {
        this.pending.shift();
        this.pendingStart += head.length;
      }
    }
  }

  private pushRaw(bytes: Buffer): void {
    this.raw.push(Buffer.from(bytes)); // copy: the parser may reuse nothing, but the chunk is shared
    this.rawLen += bytes.length;
    if (this.rawLen >= RAW_FLUSH) this.flushRaw();
  }

  private flushRaw(): void {
    if (this.rawLen === 0) return;
    const head = Buffer.alloc(5);
    head[0] = FRAME_RAW;
    head.writeUInt32BE(this.rawLen, 1);
    this.emit(head);
    this.emit(Buffer.concat(this.raw, this.rawLen));
    this.raw = [];
    this.rawLen = 0;
  }

  /** Frames go to gzip in large writes: one zlib call per small frame costs more than the compression. */
  private emit(bytes: Buffer): void {
    this.batch.push(bytes);
    this.batchLen += bytes.length;
    if (this.batchLen >= BATCH_FLUSH) this.flushBatch();
  }

  private flushBatch(): void {
    if (this.batchLen === 0) return;
    this.out.write(Buffer.concat(this.batch, this.batchLen));
    this.batch = [];
    this.batchLen = 0;
  }
}

/** Where each content number's bytes are now, relative to the layer's staging/layer dir. */
export type ContentTable = string[];

/**
 * Plays a recipe back: the layer's tar, verified against `diffId` (the stream
 * errors at its end if the bytes differ, so no consumer keeps a wrong blob).
 * `layerDir` holds `diff/` and `orphans/`; the table paths are relative to it.
 */
export function playRecipe(recipePath: string, table: ContentTable, layerDir: string, diffId: string): Readable {
  return Readable.from(playFrames(recipePath, table, layerDir, diffId), { objectMode: false });
}

/** Buffered reads of exact sizes from a chunked stream. */
class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  /** True when `n` bytes are buffered; false at a clean end of stream. */
  async fill(n: number): Promise<boolean> {
    while (this.buf.length < n) {
      const next = await this.it.next();
      if (next.done) return false;
      this.buf = this.buf.length ? Buffer.concat([this.buf, next.value]) : next.value;
    }
    return true;
  }

  take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  get buffered(): number {
    return this.buf.length;
  }
}

async function* playFrames(recipePath: string, table: ContentTable, layerDir: string, diffId: string): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  const frames = createReadStream(recipePath).pipe(createGunzip());
  const reader = new FrameReader(frames[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  const truncated = () => new Error(`${recipePath}: truncated recipe`);
  while (await reader.fill(1)) {
    const kind = reader.take(1)[0];
    if (kind === FRAME_RAW) {
      if (!(await reader.fill(4))) throw truncated();
      let left = reader.take(4).readUInt32BE(0);
      while (left > 0) {
        if (reader.buffered === 0 && !(await reader.fill(1))) throw truncated();
        const part = reader.take(Math.min(left, reader.buffered));
        left -= part.length;
        hash.update(part);
        yield part;
      }
    } else if (kind === FRAME_CONTENT) {
      if (!(await reader.fill(12))) throw truncated();
      const head = reader.take(12);
      const size = Number(head.readBigUInt64BE(0));
      const n = head.readUInt32BE(8);
      const rel = table[n];
      if (rel === undefined) throw new Error(`${recipePath}: content ${n} is not in the layer's table`);
      for (const part of readExactly(join(layerDir, rel), size)) {
        hash.update(part);
        yield part;
      }
    } else {
      throw new Error(`${recipePath}: corrupt recipe (frame type ${kind})`);
    }
  }
  const got = `sha256:${hash.digest('hex')}`;
  if (got !== diffId) {
    throw new Error(`the layer ${diffId} no longer matches its files (re-assembled tar has digest ${got}); remove the image and load it again`);
  }
}

function* readExactly(path: string, size: number): Generator<Buffer> {
  const fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size !== size) {
      throw new Error(`layer file ${path} changed: expected a ${size}-byte regular file`);
    }
    let left = size;
    while (left > 0) {
      const chunk = Buffer.allocUnsafe(Math.min(left, 1 << 20));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) throw new Error(`layer file ${path} is shorter than ${size} bytes`);
      left -= n;
      yield n === chunk.length ? chunk : chunk.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}
