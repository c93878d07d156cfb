import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCacheDir, pruneOldest } from '../util/cache-dir.js';
import { VALIDATOR_DIGEST } from './schema-digest.gen.js';

/**
 * The models that passed the schema, remembered by digest, so that a command
 * run again on the same files (a no-op `up`) neither loads the generated
 * validator (a third of a megabyte of code) nor runs it: 7-8 % of a no-op
 * `up`'s instructions.
 *
 * Safe by construction: the schema's verdict is a function of the merged,
 * interpolated model and of the validator alone, and the key is a digest of
 * both (the validator's by VALIDATOR_DIGEST, the sha256 of its generated code,
 * so another schema, ajv or tscompose build gets other keys). Whatever changes
 * the model (a file, an included or extended one, the .env, a variable the
 * files interpolate, -p) changes the key. Only passes are kept: a model that
 * fails is validated again each time, for its file:line:col messages.
 *
 * An entry is an empty file named by the key; losing one (a crash, a full
 * disk, a read-only state root) only means validating again, so nothing is
 * synced, and any error in reading or writing is a miss. The directory is
 * made only in an existing grandparent (the state root): a model validated
 * before the state root exists is simply not remembered.
 */
export class ValidatedModels {
  /** Past this many entries, a new one removes the oldest. */
  static readonly MAX_ENTRIES = 64;

  constructor(
    readonly dir: string,
    private readonly validatorDigest: string = VALIDATOR_DIGEST,
  ) {}

  /** The model's key, or undefined for a value the encoding cannot tell apart (then it is not cached). */
  keyOf(model: unknown): string | undefined {
    const parts: string[] = [];
    if (!encode(model, parts)) return undefined;
    return createHash('sha256').update(this.validatorDigest).update('\0').update(parts.join('')).digest('hex');
  }

  has(key: string): boolean {
    return existsSync(join(this.dir, key));
  }

  remember(key: string): void {
    try {
      // The directory and its parent, never more: the CLI's sits in the state root, which a command
      // that fails before the engine makes it (a missing host program) must leave unmade.
      makeCacheDir(this.dir);
      writeFileSync(join(this.dir, key), '', { mode: 0o600 });
      pruneOldest(this.dir, ValidatedModels.MAX_ENTRIES);
    } catch {
      /* not remembered: validated again next time */
    }
  }

}

/**
 * A text that tells apart every two values the validator could judge
 * differently: each value carries its type (the number 1, the string "1" and
 * `.inf`, which JSON would print as null, all differ), strings and keys are
 * quoted, key order is kept (two orders are two keys: a miss, never a wrong
 * hit). False for anything but JSON's types and non-finite numbers.
 */
function encode(v: unknown, out: string[]): boolean {
  if (v === null) out.push('n');
  else if (v === true) out.push('t');
  else if (v === false) out.push('f');
  else if (typeof v === 'number') out.push(`d${String(v)};`);
  else if (typeof v === 'string') out.push(`s${JSON.stringify(v)}`);
  else if (Array.isArray(v)) {
    out.push('[');
    for (const item of v) if (!encode(item, out)) return false;
    out.push(']');
  } else if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    out.push('{');
    for (const [k, item] of Object.entries(v)) {
      out.push(JSON.stringify(k), ':');
      if (!encode(item, out)) return false;
    }
    out.push('}');
  } else return false;
  return true;
}
