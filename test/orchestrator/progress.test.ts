import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { Chalk } from 'chalk';
import { ProgressBus } from '../../src/cli/progress/bus.js';
import { JsonRenderer, PlainRenderer } from '../../src/cli/progress/plain.js';
import { TtyRenderer } from '../../src/cli/progress/tty.js';
import { LogPrinter } from '../../src/cli/progress/logs.js';
import { colorFor, rendererFor } from '../../src/cli/progress/select.js';

class Capture extends Writable {
  text = '';
  isTTY = true;
  columns = 60;
  rows = 10;
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

const plainColor = new Chalk({ level: 0 });
const strip = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');

describe('progress renderers', () => {
  it('plain: a line per event', () => {
    const out = new Capture();
    const bus = new ProgressBus(new PlainRenderer(out, plainColor));
    bus.start('Running');
    bus.emit({ id: 'Container p-web-1', status: 'working', text: 'Creating' });
    bus.emit({ id: 'Container p-web-1', status: 'done', text: 'Created' });
    bus.emit({ id: 'Container p-db-1', status: 'error', text: 'Error', details: 'boom' });
    bus.stop();
    expect(out.text).toBe('Container p-web-1  Creating\nContainer p-web-1  Created\nContainer p-db-1  Error boom\n');
  });

  it('json: one object per line', () => {
    const out = new Capture();
    const bus = new ProgressBus(new JsonRenderer(out));
    bus.emit({ id: 'Network p_default', status: 'done', text: 'Created', time: Date.UTC(2026, 0, 1) });
    expect(JSON.parse(out.text)).toEqual({ id: 'Network p_default', status: 'done', text: 'Created', time: '2026-01-01T00:00:00.000Z' });
  });

  it('tty: a block redrawn in place, a line per resource with its mark, status and time', async () => {
    const out = new Capture();
    const bus = new ProgressBus(new TtyRenderer(out as unknown as NodeJS.WriteStream, plainColor));
    bus.start('Running');
    const t = Date.now();
    bus.emit({ id: 'Container p-web-1', status: 'working', text: 'Starting', time: t });
    bus.emit({ id: 'Network p_default', status: 'done', text: 'Created', time: t });
    await new Promise((r) => setTimeout(r, 250)); // a frame or two
    const first = strip(out.text);
    expect(first).toContain('[+] Running 1/2\n');
    expect(first).toMatch(/ [⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Container p-web-1 Starting +\d+\.\ds\n/);
    expect(first).toMatch(/ ✔ Network p_default +Created +0\.0s\n/);
    for (const line of first.split('\n')) expect(line.length).toBeLessThanOrEqual(60);
    bus.emit({ id: 'Container p-web-1', status: 'done', text: 'Started', time: t + 1500 });
    bus.stop();
    // Later frames move the cursor up over the block instead of scrolling.
    expect(out.text).toContain('\u001b[3A');
    const last = strip(out.text.slice(out.text.lastIndexOf('[+]')));
    expect(last).toContain('[+] Running 2/2\n');
    expect(last).toMatch(/ ✔ Container p-web-1 Started +1\.5s\n/);
  });

  it('auto picks plain when not a terminal or under CI; --ansi never and NO_COLOR turn colours off', () => {
    const tty = new Capture();
    const pipe = Object.assign(new Capture(), { isTTY: false });
    const ci = process.env.CI;
    try {
      delete process.env.CI;
      expect(rendererFor({}, tty as unknown as NodeJS.WriteStream)).toBeInstanceOf(TtyRenderer);
      expect(rendererFor({}, pipe as unknown as NodeJS.WriteStream)).toBeInstanceOf(PlainRenderer);
      expect(rendererFor({ ansi: 'never' }, tty as unknown as NodeJS.WriteStream)).toBeInstanceOf(PlainRenderer);
      process.env.CI = 'true';
      expect(rendererFor({}, tty as unknown as NodeJS.WriteStream)).toBeInstanceOf(PlainRenderer);
      expect(rendererFor({ progress: 'tty' }, pipe as unknown as NodeJS.WriteStream)).toBeInstanceOf(TtyRenderer);
    } finally {
      if (ci === undefined) delete process.env.CI;
      else process.env.CI = ci;
    }
    const nc = process.env.NO_COLOR;
    try {
      process.env.NO_COLOR = '1';
      expect(colorFor(tty as unknown as NodeJS.WriteStream).level).toBe(0);
      expect(colorFor(tty as unknown as NodeJS.WriteStream, 'always').level).toBe(1);
    } finally {
      if (nc === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = nc;
    }
  });

  it('logs: `service-1  | ` prefixes aligned, a colour per service', () => {
    const out = new Capture();
    const p = new LogPrinter(out, new Chalk({ level: 1 }));
    p.register('web-1', 'web');
    p.register('database-1', 'database');
    p.line('web-1', 'web', { stream: 'stdout', text: 'hello' });
    p.line('database-1', 'database', { stream: 'stdout', text: 'ready' });
    const lines = out.text.split('\n');
    expect(strip(lines[0]!)).toBe('web-1       | hello');
    expect(strip(lines[1]!)).toBe('database-1  | ready');
    const colourOf = (l: string) => /^\u001b\[(\d+)m/.exec(l)![1];
    expect(colourOf(lines[0]!)).not.toBe(colourOf(lines[1]!));
  });
});
