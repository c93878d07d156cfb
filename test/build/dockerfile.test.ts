import { describe, it, expect } from 'vitest';
import { parseDockerfile } from '../../src/build/dockerfile/parser.js';
import { loadBuildFile, parseDuration } from '../../src/build/dockerfile/instructions.js';
import { expandWord, expandWords } from '../../src/build/dockerfile/expand.js';
import { IgnoreMatcher, compilePattern } from '../../src/build/context/patterns.js';

/** The Dockerfile's syntax, variable expansion and path patterns, without building anything. */

describe('Dockerfile parser', () => {
  it('joins continuations, skips comments and empty lines inside them, keeps line numbers', () => {
    const df = parseDockerfile([
      '# syntax=docker/dockerfile:1',
      '# escape=\\',
      '',
      'FROM busybox AS base   ',
      'RUN echo one \\',
      '# a comment inside',
      '    && echo two \\   ',
      '',
      '    && echo three',
      '  # an indented comment',
      'COPY --chown=1:2 --from=base ["a b", "c"]',
      'CMD ["sh", "-c", "echo hi"]',
      'ENTRYPOINT [not json',
    ].join('\n'));
    expect(df.directives).toEqual({ syntax: 'docker/dockerfile:1', escape: '\\' });
    expect(df.nodes.map((n) => [n.instruction, n.line, n.endLine])).toEqual([
      ['FROM', 4, 4], ['RUN', 5, 9], ['COPY', 11, 11], ['CMD', 12, 12], ['ENTRYPOINT', 13, 13],
    ]);
    expect(df.nodes[1]!.args).toBe('echo one     && echo two     && echo three');
    expect(df.warnings[0]).toMatch(/^Dockerfile:5: empty continuation line/);
    expect(df.nodes[2]!.flags).toEqual([{ name: 'chown', value: '1:2' }, { name: 'from', value: 'base' }]);
    expect(df.nodes[2]!.json).toEqual(['a b', 'c']);
    expect(df.nodes[3]!.json).toEqual(['sh', '-c', 'echo hi']);
    expect(df.nodes[4]!.json).toBeUndefined();
  });

  it('takes the backtick as escape character when told, and stops directives at the first other line', () => {
    const df = parseDockerfile('# escape=`\nFROM busybox\nRUN dir c:\\ `\n  && echo done\n# escape=\\\n');
    expect(df.escape).toBe('`');
    expect(df.nodes[1]!.args).toBe('dir c:\\   && echo done');
    expect(parseDockerfile('FROM busybox\n# escape=`\nRUN a \\\n b').nodes[1]!.args).toBe('a  b');
  });

  it('groups instructions into stages with global ARGs and checks each one', () => {
    const bf = loadBuildFile([
      'ARG BASE=busybox',
      'ARG TAG',
      'FROM ${BASE}:${TAG:-latest} AS Builder',
      'ENV A=1 B="two words" C=three\\ words',
      'ENV LEGACY the rest is the value',
      'LABEL "com.example.key"="v" other=x',
      'HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=1s --retries=2 CMD curl -f http://localhost/',
      'EXPOSE 80 443/tcp',
      'ONBUILD RUN echo triggered',
      'FROM builder',
      'HEALTHCHECK NONE',
      'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
      'VOLUME ["/data", "/logs"]',
      'STOPSIGNAL SIGTERM',
    ].join('\n'));
    expect(bf.globalArgs.flatMap((a) => a.args)).toEqual([{ name: 'BASE', value: 'busybox' }, { name: 'TAG' }]);
    expect(bf.stages.map((s) => [s.index, s.name, s.base])).toEqual([[0, 'builder', '${BASE}:${TAG:-latest}'], [1, undefined, 'builder']]);
    const [env1, env2, label, health] = bf.stages[0]!.instructions;
    expect(env1).toMatchObject({ kind: 'ENV', pairs: [['A', '1'], ['B', '"two words"'], ['C', 'three\\ words']] });
    expect(env2).toMatchObject({ kind: 'ENV', pairs: [['LEGACY', 'the rest is the value']] });
    expect(label).toMatchObject({ kind: 'LABEL', pairs: [['"com.example.key"', '"v"'], ['other', 'x']] });
    expect(health).toMatchObject({ kind: 'HEALTHCHECK', health: { test: ['CMD-SHELL', 'curl -f http://localhost/'], interval: 90e9, timeout: 500e6, startPeriod: 1e9, retries: 2 } });
    expect(bf.stages[1]!.instructions.map((i) => i.kind)).toEqual(['HEALTHCHECK', 'SHELL', 'VOLUME', 'STOPSIGNAL']);
    expect(bf.stages[1]!.instructions[0]).toMatchObject({ health: { test: ['NONE'] } });
  });

  it('reads Go durations', () => {
    expect(parseDuration('30s')).toBe(30e9);
    expect(parseDuration('1h2m3.5s')).toBe(3723.5e9);
    expect(parseDuration('250ms')).toBe(250e6);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('5')).toBeUndefined();
    expect(parseDuration('1x')).toBeUndefined();
  });

  it('names the line of every syntax error', () => {
    const cases: [string, RegExp][] = [
      ['FROM a\nFROM b AS a\nFROM c AS a', /^Dockerfile:3: duplicate stage name "a"/],
      ['FROM a AS 1st', /^Dockerfile:1: invalid name for build stage: "1st"/],
      ['FROM a\nONBUILD ONBUILD RUN x', /^Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed/],
      ['FROM a\nONBUILD FROM b', /^Dockerfile:2: FROM isn't allowed as an ONBUILD trigger/],
      ['FROM a\nONBUILD BOGUS x', /^Dockerfile:2: unknown instruction: BOGUS/],
      ['FROM a\nHEALTHCHECK CMD', /^Dockerfile:2: Missing command after HEALTHCHECK CMD/],
      ['FROM a\nHEALTHCHECK NONE --x', /^Dockerfile:2: HEALTHCHECK NONE takes no arguments/],
      ['FROM a\nHEALTHCHECK --retries=0 CMD true', /^Dockerfile:2: --retries must be at least 1/],
      ['FROM a\nHEALTHCHECK WAT', /^Dockerfile:2: Unknown type "WAT" in HEALTHCHECK/],
      ['FROM a\nARG 1BAD=x', /^Dockerfile:2: invalid ARG name "1BAD"/],
      ['FROM a\nLABEL =x', /^Dockerfile:2: LABEL names can not be blank/],
      ['FROM a\nENV a=1 b', /^Dockerfile:2: Syntax error - can't find = in "b"/],
      ['FROM a\nUSER a b', /^Dockerfile:2: USER requires exactly one argument/],
      ['FROM a\nRUN --network=bridge true', /^Dockerfile:2: unsupported --network=bridge for RUN/],
      ['FROM a\nCOPY --chown a b', /^Dockerfile:2: --chown of COPY needs a value/],
      ['FROM a\nCOPY --from=x --from=y a b', /^Dockerfile:2: --from given twice/],
      ['FROM a\nWORKDIR', /^Dockerfile:2: WORKDIR requires at least one argument/],
      ['FROM a\nVOLUME [""]', /^Dockerfile:2: VOLUME specified can not be an empty string/],
      ['FROM --platform linux/amd64 a', /^Dockerfile:1: --platform of FROM needs a value/],
      ['', /^Dockerfile:1: the Dockerfile has no instructions/],
      ['ARG A=1', /^Dockerfile:1: the Dockerfile has no FROM/],
      ['# only a comment\n\n', /the Dockerfile has no instructions/],
    ];
    for (const [text, re] of cases) expect(() => loadBuildFile(text), text).toThrow(re);
  });
});

describe('variable expansion', () => {
  const env = new Map([['A', 'a'], ['EMPTY', ''], ['SP', 'x y'], ['PATHV', '/usr/local/bin:/usr/bin'], ['FILE', 'archive.tar.gz']]);

  it('replaces $VAR and ${VAR} with the modifiers Docker supports', () => {
    const cases: [string, string][] = [
      ['$A', 'a'], ['${A}', 'a'], ['pre${A}post', 'preapost'], ['$A$A', 'aa'], ['$NOPE', ''], ['$', '$'], ['a$', 'a$'],
      ['${NOPE:-def}', 'def'], ['${EMPTY:-def}', 'def'], ['${EMPTY-def}', ''], ['${NOPE-def}', 'def'], ['${A:-def}', 'a'],
      ['${A:+alt}', 'alt'], ['${EMPTY:+alt}', ''], ['${EMPTY+alt}', 'alt'], ['${NOPE+alt}', ''],
      ['${NOPE:-${A}-nested}', 'a-nested'],
      ['${FILE%.gz}', 'archive.tar'], ['${FILE%%.*}', 'archive'], ['${FILE#*.}', 'tar.gz'], ['${FILE##*.}', 'gz'],
      ["'$A'", '$A'], ['"$A"', 'a'], ['"\\$A"', '$A'], ['\\$A', '$A'], ['"a \\"q\\" b"', 'a "q" b'], ['"\\n"', '\\n'],
      ['${PATHV}:/extra', '/usr/local/bin:/usr/bin:/extra'],
    ];
    for (const [input, want] of cases) expect(expandWord(input, env), input).toBe(want);
  });

  it('splits words after expansion, but not quoted or escaped whitespace', () => {
    expect(expandWords('$SP "q r" s\\ t', env)).toEqual(['x', 'y', 'q r', 's t']);
    expect(expandWords('  one   two  ', env)).toEqual(['one', 'two']);
  });

  it('uses the escape directive\'s character', () => {
    expect(expandWord('c:\\path `$A', env, '`')).toBe('c:\\path $A');
  });

  it('fails with the shell\'s words on bad syntax and ${VAR?}', () => {
    expect(() => expandWord('${A', env)).toThrow(/missing '}'/);
    expect(() => expandWord('${}', env)).toThrow(/bad substitution/);
    expect(() => expandWord('${A:=x}', env)).toThrow(/unsupported modifier \(:=\)/);
    expect(() => expandWord('${NOPE?is required}', env)).toThrow(/^NOPE: is required$/);
    expect(() => expandWord('${EMPTY:?}', env)).toThrow(/^EMPTY: is not allowed to be empty$/);
    expect(() => expandWord("'open", env)).toThrow(/single-quote/);
    expect(() => expandWord('"open', env)).toThrow(/double-quote/);
  });
});

describe('.dockerignore and COPY patterns', () => {
  it('matches like moby/patternmatcher: *, ?, classes, ** and parents', () => {
    const m = (p: string, path: string) => compilePattern(p).test(path);
    expect(m('*.txt', 'a.txt')).toBe(true);
    expect(m('*.txt', 'dir/a.txt')).toBe(false);
    expect(m('**/*.txt', 'dir/sub/a.txt')).toBe(true);
    expect(m('**/*.txt', 'a.txt')).toBe(true);
    expect(m('dir/**', 'dir/a/b')).toBe(true);
    expect(m('file?.md', 'file1.md')).toBe(true);
    expect(m('[a-c]*.js', 'b.js')).toBe(true);
    expect(m('[!a]*.js', 'a.js')).toBe(false);
    expect(m('/abs/./x', 'abs/x')).toBe(true);
  });

  it('excludes with the last matching line winning, ! re-including', () => {
    const ig = IgnoreMatcher.parse('# comment\nnode_modules\n*.log\n!keep.log\ndocs/**\n!docs/README.md\n/build\n');
    expect(ig.ignores('node_modules')).toBe(true);
    expect(ig.ignores('node_modules/x/y.js')).toBe(true);
    expect(ig.ignores('error.log')).toBe(true);
    expect(ig.ignores('keep.log')).toBe(false);
    expect(ig.ignores('sub/error.log')).toBe(false);
    expect(ig.ignores('docs/a/b.md')).toBe(true);
    expect(ig.ignores('docs/README.md')).toBe(false);
    expect(ig.ignores('build/out')).toBe(true);
    expect(ig.ignores('src/build')).toBe(false);
    expect(ig.canSkipDir('node_modules')).toBe(true);
    expect(ig.canSkipDir('docs')).toBe(false);
  });
});
