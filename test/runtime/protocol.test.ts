import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONF_KEYS, CP_MODES, ENTRY_POINTS, OP_KINDS } from '../../src/engine/native/runtime/helper-protocol.js';
import { repoRoot } from '../support/cache.js';

/**
 * The helper's protocol is declared once, in native/helper.h; TypeScript's
 * lists (which type HelperConfig) must say the same, and no C file may name
 * a key, an op, a mode or an entry point by a bare string.
 */
const header = readFileSync(join(repoRoot, 'native', 'helper.h'), 'utf8');
const defined = (prefix: string) => [...header.matchAll(new RegExp(`^#define ${prefix}_\\w+\\s+"([\\w]+)"`, 'gm'))].map((m) => m[1]!).sort();

describe('the helper protocol', () => {
  it('has the same keys, op kinds, cp modes and entry points in native/helper.h and in TypeScript', () => {
    expect(defined('K').length).toBeGreaterThan(30);
    expect(defined('K')).toEqual([...CONF_KEYS].sort());
    expect(defined('OP')).toEqual([...OP_KINDS].sort());
    expect(defined('CP')).toEqual([...CP_MODES].sort());
    expect(defined('CMD')).toEqual([...ENTRY_POINTS].sort());
  });

  it('is spelled through those constants in the C sources', () => {
    const bare = /(conf_(?:get|num)\([^,)]+,\s*"|strcmp\([^,)]*(?:key|kind|mode|cmd),\s*")/;
    const offenders: string[] = [];
    for (const f of readdirSync(join(repoRoot, 'native')).filter((n) => n.endsWith('.c'))) {
      readFileSync(join(repoRoot, 'native', f), 'utf8').split('\n').forEach((line, i) => {
        if (bare.test(line)) offenders.push(`native/${f}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });

  it('documents every key beside its constant', () => {
    const undocumented = [...header.matchAll(/^#define (K|OP)_\w+\s+"\w+"(.*)$/gm)].filter((m) => !/\/\*/.test(m[2]!)).map((m) => m[0]);
    expect(undocumented).toEqual([]);
  });
});
