import { describe, expect, it } from 'vitest';
import { substitute, TemplateError } from '../../src/project/template.js';

const env: Record<string, string> = { SET: 'value', EMPTY: '', A: 'a', B: 'b', NAME: 'web' };
const sub = (t: string, e = env) => substitute(t, { lookup: (k) => e[k] });

function failure(t: string): TemplateError {
  try {
    sub(t);
  } catch (err) {
    if (err instanceof TemplateError) return err;
    throw err;
  }
  throw new Error(`${t} did not fail`);
}

describe('interpolation grammar', () => {
  it('substitutes $VAR and ${VAR}', () => {
    expect(sub('$SET')).toBe('value');
    expect(sub('${SET}')).toBe('value');
    expect(sub('x-$SET-y')).toBe('x-value-y');
    expect(sub('${SET}suffix')).toBe('valuesuffix');
    expect(sub('$SETsuffix')).toBe(''); // the name runs to the first non-name character
    expect(sub('${A}${B}$A$B')).toBe('abab');
  });

  it('turns an unset plain reference into "" and reports it', () => {
    const unset: [string, number][] = [];
    const out = substitute('a${NOPE}b$ALSO', { lookup: (k) => env[k], onUnset: (n, at) => unset.push([n, at]) });
    expect(out).toBe('ab');
    expect(unset).toEqual([
      ['NOPE', 1],
      ['ALSO', 9],
    ]);
  });

  it('keeps an empty value (set but empty is not unset)', () => {
    const unset: string[] = [];
    expect(substitute('[${EMPTY}]', { lookup: (k) => env[k], onUnset: (n) => unset.push(n) })).toBe('[]');
    expect(unset).toEqual([]);
  });

  it.each([
    // template, SET=value, EMPTY='', unset
    ['${X:-d}', 'value', 'd', 'd'],
    ['${X-d}', 'value', '', 'd'],
    ['${X:+r}', 'r', '', ''],
    ['${X+r}', 'r', 'r', ''],
  ])('%s picks by set / empty / unset', (template, whenSet, whenEmpty, whenUnset) => {
    expect(sub(template.replace('X', 'SET'))).toBe(whenSet);
    expect(sub(template.replace('X', 'EMPTY'))).toBe(whenEmpty);
    expect(sub(template.replace('X', 'UNSET'))).toBe(whenUnset);
  });

  it('${VAR:?msg} fails when unset or empty, ${VAR?msg} only when unset', () => {
    expect(sub('${SET:?need it}')).toBe('value');
    expect(sub('${SET?need it}')).toBe('value');
    expect(sub('${EMPTY?need it}')).toBe('');
    expect(failure('${EMPTY:?need it}').message).toBe('required variable EMPTY is empty: need it');
    expect(failure('${UNSET:?need it}').message).toBe('required variable UNSET is not set: need it');
    expect(failure('${UNSET?need it}').message).toBe('required variable UNSET is not set: need it');
    expect(failure('${UNSET:?}').message).toBe('required variable UNSET is not set');
  });

  it('interpolates inside defaults, replacements and messages, nested to any depth', () => {
    expect(sub('${UNSET:-${A:-c}}')).toBe('a');
    expect(sub('${UNSET:-${UNSET2:-c}}')).toBe('c');
    expect(sub('${UNSET:-${UNSET2:-${B}}}')).toBe('b');
    expect(sub('${SET:+pre-${A}-post}')).toBe('pre-a-post');
    expect(sub('${UNSET:-$NAME.example}')).toBe('web.example');
    expect(sub('${UNSET-}')).toBe('');
    expect(failure('${UNSET:?missing ${NAME}}').message).toBe('required variable UNSET is not set: missing web');
    expect(sub('${UNSET:-a}${UNSET:-b}')).toBe('ab');
  });

  it('does not evaluate the branch it does not take', () => {
    // The failing ${NEVER:?} sits in the default of a set variable: never expanded.
    expect(sub('${SET:-${NEVER:?boom}}')).toBe('value');
  });

  it('$$ is a literal $, and a $ before anything but a name or { stays literal', () => {
    expect(sub('$$SET')).toBe('$SET');
    expect(sub('$${SET}')).toBe('${SET}');
    expect(sub('price: 5$')).toBe('price: 5$');
    expect(sub('$1 $- $ x')).toBe('$1 $- $ x');
    expect(sub('a$$$SET')).toBe('a$value');
    expect(sub('${UNSET:-$$}')).toBe('$');
  });

  it('rejects malformed ${...} with the offset of its $', () => {
    const cases: [string, number, RegExp][] = [
      ['${}', 0, /a variable name starts with a letter or _/],
      ['ab${1X}', 2, /a variable name starts/],
      ['x ${VAR', 2, /no closing \}/],
      ['${VAR:x}', 0, /":x" is not one of :- - :\? \? :\+ \+/],
      ['${ VAR }', 0, /a variable name starts/],
      ['ok ${UNSET:-${bad name}}', 12, /is not one of/],
    ];
    for (const [t, offset, re] of cases) {
      const e = failure(t);
      expect(e.offset, t).toBe(offset);
      expect(e.message, t).toMatch(re);
      expect(e.message).toMatch(/write \$\$ for a literal \$/);
    }
  });

  it('accepts names of any case with digits and underscores', () => {
    expect(sub('${lower_case_1}', { lower_case_1: 'x' })).toBe('x');
    expect(sub('$_UNDER', { _UNDER: 'u' })).toBe('u');
  });
});
