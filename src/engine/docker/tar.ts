import { pack } from 'tar-stream';
import type { FileRequest } from '../types.js';

/** A tar of files at absolute paths, as Compose builds it for configs and secrets (extracted at "/"). */
export async function tarOfFiles(files: FileRequest[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  const now = new Date();
  for (const f of files) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ name: f.target.replace(/^\/+/, ''), size: f.content.length, mode: f.mode, uid: f.uid ?? 0, gid: f.gid ?? 0, mtime: now }, f.content, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}
