import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { repoRoot } from '../support/cache.js';
import { COMPOSE_GLOBAL_FLAGS, COMPOSE_VERBS, COMPOSE_VERSION } from './compose-reference.js';

/**
 * Acceptance 6 of issue 17: `tscompose <verb> --help` exists for every verb of
 * Docker Compose v2's CLI reference (compose-reference.ts, Compose v2.40.3),
 * and each verb's flags (long names, as --help shows them) are Compose's.
 * What we do not have yet, and what we have that Compose has not, is listed
 * here by name: the test fails when a gap closes (take it off the list) or a
 * new one opens.
 */
const MISSING_VERBS: readonly string[] = [];
/** Compose's flags a verb of ours lacks. */
const MISSING_FLAGS: Readonly<Record<string, readonly string[]>> = {};
/** Flags of ours Compose's verb has not. */
const EXTRA_FLAGS: Readonly<Record<string, readonly string[]>> = {
  commit: ['no-pause'], // Compose spells it --pause=false
  create: ['always-recreate-deps', 'renew-anon-volumes'], // up's, which create honours too
  ps: ['no-orphans'], // Compose spells it --orphans=false
  start: ['wait', 'wait-timeout'],
};
/** Global flags of ours Compose has not. */
const EXTRA_GLOBAL_FLAGS: readonly string[] = ['backend', 'version'];

const longNames = (cmd: Command) =>
  cmd.options
    .filter((o) => !o.hidden && o.long)
    .map((o) => o.long!.replace(/^--/, ''))
    .filter((n) => n !== 'help')
    .sort();

const difference = (a: readonly string[], b: readonly string[]) => a.filter((x) => !b.includes(x)).sort();

describe(`the verbs and flags of Docker Compose ${COMPOSE_VERSION}`, async () => {
  const program = await buildProgram();
  const verb = (name: string) => program.commands.find((c) => c.name() === name || c.aliases().includes(name));

  it('every verb is there, but for the known missing ones', () => {
    const missing = Object.keys(COMPOSE_VERBS).filter((v) => !verb(v));
    expect(missing.sort()).toEqual([...MISSING_VERBS].sort());
  });

  it.each(Object.keys(COMPOSE_VERBS).filter((v) => !MISSING_VERBS.includes(v)))('%s: the flags match, but for the known gaps', (name) => {
    const cmd = verb(name)!;
    const ours = longNames(cmd);
    const theirs = COMPOSE_VERBS[name]!;
    expect({ missing: difference(theirs, ours), extra: difference(ours, theirs) }).toEqual({
      missing: [...(MISSING_FLAGS[name] ?? [])].sort(),
      extra: [...(EXTRA_FLAGS[name] ?? [])].sort(),
    });
    const help = cmd.helpInformation();
    for (const flag of ours) expect(help).toContain(`--${flag}`);
  });

  it('the global flags match', () => {
    const ours = longNames(program);
    expect({ missing: difference(COMPOSE_GLOBAL_FLAGS, ours), extra: difference(ours, COMPOSE_GLOBAL_FLAGS) }).toEqual({ missing: [], extra: [...EXTRA_GLOBAL_FLAGS].sort() });
  });

  it('the gap lists name only verbs and flags of the reference (no stale entries)', () => {
    for (const v of MISSING_VERBS) expect(COMPOSE_VERBS, v).toHaveProperty(v);
    for (const [v, flags] of Object.entries(MISSING_FLAGS)) for (const f of flags) expect(COMPOSE_VERBS[v], `${v} --${f}`).toContain(f);
  });

  it('tscompose <verb> --help answers for a verb, from the built CLI', () => {
    const help = execFileSync(join(repoRoot, 'bin', 'tscompose'), ['up', '--help'], { encoding: 'utf8' });
    expect(help).toMatch(/^Usage: tscompose up/m);
  });
});
