import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { escapeFilter, parseDetachKeys } from '../../src/compose/attach-service.js';

/** attach's --detach-keys: Docker's spelling, and the input filter that holds back a partial sequence. */
describe('detach keys', () => {
  it('parses Docker\'s spelling', () => {
    expect(parseDetachKeys('ctrl-p,ctrl-q')).toEqual([16, 17]);
    expect(parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')).toEqual([0, 27, 28, 29, 30, 31]);
    expect(parseDetachKeys('x,ctrl-a')).toEqual([120, 1]);
    for (const bad of ['', 'ctrl-1', 'ctrl-P', 'xy', 'ctrl-p,']) expect(() => parseDetachKeys(bad), bad).toThrow(`invalid detach keys "${bad}"`);
  });

  const run = async (chunks: string[], keys = [16, 17]) => {
    let detached = false;
    const out: Buffer[] = [];
    const f = Readable.from(chunks.map((c) => Buffer.from(c))).pipe(escapeFilter(keys, () => (detached = true)));
    for await (const c of f) out.push(c as Buffer);
    return { text: Buffer.concat(out).toString(), detached };
  };

  it('passes input on, holds a partial sequence back, and ends on the whole one', async () => {
    expect(await run(['hello\n'])).toEqual({ text: 'hello\n', detached: false });
    expect(await run(['a\x10', 'b'])).toEqual({ text: 'a\x10b', detached: false });
    expect(await run(['a\x10\x10', '\x11after'])).toEqual({ text: 'a\x10', detached: true });
    expect(await run(['in\x10', '\x11', 'never'])).toEqual({ text: 'in', detached: true });
  });
});
