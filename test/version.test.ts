import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VERSION } from '../src/util/version.js';
import { repoRoot } from './support/cache.js';

describe('VERSION', () => {
  it('is package.json\'s version', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
  });
});
