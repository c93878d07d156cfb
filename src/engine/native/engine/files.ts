import { chownSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, posix } from 'node:path';
import { UserError } from '../../../util/errors.js';
import { ensurePrivateDir } from '../../../util/paths.js';
import type { FileRequest } from '../../types.js';
import type { ContainerMount } from '../runtime/index.js';
import { engineDir, engineIds, filesDir, readEngineRecord } from './records.js';

/**
 * Configs and secrets with inline or environment content, placed before the
 * first start: each is written once on the host, with its mode and owner,
 * and bind-mounted at its target (the runtime makes the mount point and its
 * parents). The container cannot reach the rest of the host through it: the
 * bind is of that one file. A token names the dir because the container has
 * no id yet when its mounts are decided.
 */

const SWEEP_AFTER_MS = 10 * 60_000;

export function placeFiles(files: readonly FileRequest[], container: string): { token: string; mounts: ContainerMount[] } | undefined {
  if (files.length === 0) return undefined;
  sweepOrphans();
  const token = randomBytes(16).toString('hex');
  const dir = filesDir(token);
  ensurePrivateDir(dir);
  try {
    const mounts = files.map((f, i): ContainerMount => {
      const target = posix.normalize(f.target);
      if (!posix.isAbsolute(target) || target === '/') {
        throw new UserError(`container ${container}: invalid file target "${f.target}"`, 1, 'give an absolute path, e.g. /run/secrets/token');
      }
      const host = join(dir, String(i));
      writeFileSync(host, f.content, { mode: f.mode & 0o7777 });
      if (f.uid !== undefined || f.gid !== undefined) chownSync(host, f.uid ?? 0, f.gid ?? 0);
      // Read-only, as Compose mounts them: a write inside would reach this copy.
      return { type: 'bind', source: host, target, readOnly: true };
    });
    return { token, mounts };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export function removeFiles(token: string | undefined): void {
  if (token && /^[0-9a-f]{32}$/.test(token)) rmSync(filesDir(token), { recursive: true, force: true });
}

/**
 * A create killed between writing the files and recording the container
 * leaves a token dir nobody names: old ones no record refers to go.
 */
function sweepOrphans(): void {
  const root = join(engineDir(), 'files');
  let tokens: string[];
  try {
    tokens = readdirSync(root);
  } catch {
    return;
  }
  const now = Date.now();
  const old = tokens.filter((t) => {
    try {
      return now - statSync(join(root, t)).mtimeMs > SWEEP_AFTER_MS;
    } catch {
      return false;
    }
  });
  if (old.length === 0) return;
  const used = new Set(engineIds().map((id) => readEngineRecord(id).filesToken));
  for (const t of old) if (!used.has(t)) removeFiles(t);
}
