import { packToBuffer } from '../../src/engine/native/image/tarlib.js';

/** One tar entry for the synthetic layers the tests build (tar-stream's header, content as a string or bytes). */
export interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

/** Builds a tar in memory with tar-stream, entry by entry, exactly as given (no normalization). */
export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  return packToBuffer(entries.map((e) => {
    const type = e.type ?? 'file';
    const content = e.content === undefined ? Buffer.alloc(0) : Buffer.from(e.content);
    return {
      header: {
        name: e.name,
        type,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        mtime: e.mtime ?? new Date('2024-01-02T03:04:05Z'),
        size: type === 'file' ? content.length : 0,
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
        ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor ?? 0 } : {}),
        ...(e.pax ? { pax: e.pax } : {}),
      },
      ...(type === 'file' ? { content } : {}),
    };
  }));
}
