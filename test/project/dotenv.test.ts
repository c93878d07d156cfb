import { describe, expect, it } from 'vitest';
import { DotEnvError, parseDotEnv } from '../../src/project/dotenv.js';

describe('.env files', () => {
  it('reads KEY=value, KEY: value, export, comments and blank lines', () => {
    const text = ['# a comment', '', 'A=1', 'export B=two', 'C: three', '  D = spaced  ', 'E=', 'F=x # inline comment', 'G=x#not a comment'].join('\n');
    expect(parseDotEnv(text)).toEqual({ A: '1', B: 'two', C: 'three', D: 'spaced', E: '', F: 'x', G: 'x#not a comment' });
  });

  it('keeps single-quoted values literal and expands escapes and variables in double quotes', () => {
    const text = [`S='$A \\n # kept'`, `D="line1\\nline2 \\"q\\" \\$A \${A}"`, `M="multi`, `line"`].join('\n');
    expect(parseDotEnv(text, { lookup: (k) => (k === 'A' ? 'a' : undefined) })).toEqual({
      S: '$A \\n # kept',
      D: 'line1\nline2 "q" $A a',
      M: 'multi\nline',
    });
  });

  it('lets values refer to the environment first, then to earlier entries', () => {
    const text = ['HOST=db', 'URL=http://${HOST}:${PORT:-5432}/${NAME}', 'NAME=late', 'SHADOW=${USER}'].join('\n');
    const env = { USER: 'from-shell' };
    expect(parseDotEnv(text, { lookup: (k) => env[k as keyof typeof env] })).toEqual({
      HOST: 'db',
      URL: 'http://db:5432/',
      NAME: 'late',
      SHADOW: 'from-shell',
    });
  });

  it('takes a bare KEY from the environment, and drops it when the environment lacks it', () => {
    expect(parseDotEnv('INHERITED\nMISSING\nX=1', { lookup: (k) => (k === 'INHERITED' ? 'yes' : undefined) })).toEqual({ INHERITED: 'yes', X: '1' });
  });

  it('reads CRLF files and a UTF-8 BOM', () => {
    expect(parseDotEnv('\uFEFFA=1\r\nB="2"\r\n')).toEqual({ A: '1', B: '2' });
  });

  it('format raw takes values literally', () => {
    expect(parseDotEnv(`A="quoted" \${X} # not a comment`, { format: 'raw', lookup: () => 'x' })).toEqual({ A: `"quoted" \${X} # not a comment` });
  });

  it('reports errors with line and column', () => {
    const at = (text: string) => {
      try {
        parseDotEnv(text);
      } catch (err) {
        if (err instanceof DotEnvError) return `${err.line}:${err.col}: ${err.message}`;
        throw err;
      }
      return 'no error';
    };
    expect(at('A=1\nBAD KEY=2')).toBe('2:4: a variable name cannot contain a space: "BAD KEY=2"');
    expect(at('A=1\nB@D=2')).toBe('2:2: unexpected character "@" in variable name "B@D=2"');
    expect(at('A=1\nB="open\nC=2')).toMatch(/^2:3: unterminated quoted value/);
    expect(at('A=1\n=2')).toMatch(/^2:1: unexpected character "=" where a variable name was expected/);
    expect(at('A="x" trailing')).toMatch(/^1:6: unexpected "trailing" after the closing quote/);
    expect(at('A=${B:?need B}')).toBe('1:3: required variable B is not set: need B');
  });
});
