import type { ChalkInstance } from 'chalk';
import type { EventStatus, ProgressEvent, Renderer } from './bus.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const ESC = '\u001b[';

interface Task {
  id: string;
  status: EventStatus;
  text: string;
  details?: string;
  start: number;
  end?: number;
}

/**
 * Compose's terminal display: a block redrawn in place every 100 ms,
 * `[+] Running 3/4`, then a line per resource with a spinner (or ✔ ! ✘), its
 * status and the elapsed time at the right edge. The cursor is hidden while
 * drawing and the block is cut to the terminal's height.
 */
export class TtyRenderer implements Renderer {
  private readonly tasks = new Map<string, Task>();
  private linesDrawn = 0;
  private timer?: NodeJS.Timeout;
  private title = 'Running';
  private frame = 0;
  private readonly pendingInfo: string[] = [];

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly color: ChalkInstance,
  ) {}

  start(operation: string): void {
    this.title = operation;
    if (this.timer) return;
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }

  event(e: ProgressEvent): void {
    if (e.parentId) return;
    const t = this.tasks.get(e.id);
    if (!t) {
      this.tasks.set(e.id, { id: e.id, status: e.status, text: e.text, details: e.details, start: e.time, end: e.status === 'working' ? undefined : e.time });
      return;
    }
    if (e.status !== 'working' && t.status === 'working') t.end = e.time;
    if (e.status === 'working' && t.status !== 'working') {
      t.end = undefined;
    }
    t.status = e.status;
    t.text = e.text;
    t.details = e.details;
  }

  info(message: string): void {
    this.pendingInfo.push(message);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
    this.linesDrawn = 0;
    this.frame = 0;
    this.tasks.clear();
  }

  private draw(): void {
    const width = this.out.columns || 80;
    const height = this.out.rows || 24;
    const now = Date.now();
    const tasks = [...this.tasks.values()];
    let buf = `${ESC}?25l`;
    if (this.linesDrawn) buf += `${ESC}${this.linesDrawn}A\r`;
    for (const msg of this.pendingInfo.splice(0)) buf += `${ESC}2K${msg}\n`;
    if (tasks.length === 0) {
      this.out.write(buf + `${ESC}?25h`);
      this.linesDrawn = 0;
      return;
    }
    const done = tasks.filter((t) => t.status !== 'working').length;
    const lines = [`${this.color.blue('[+]')} ${this.title} ${done}/${tasks.length}`];
    const room = Math.max(height - 2, 1);
    const shown = tasks.length > room ? tasks.slice(0, room - 1) : tasks;
    const idWidth = Math.max(...shown.map((t) => t.id.length));
    const textWidth = Math.max(...shown.map((t) => t.text.length));
    for (const t of shown) {
      const secs = (((t.end ?? now) - t.start) / 1000).toFixed(1) + 's';
      const mark = this.mark(t);
      let left = ` ${mark} ${t.id.padEnd(idWidth)} ${this.paint(t.status, t.text.padEnd(textWidth))}`;
      let visible = 3 + idWidth + 1 + textWidth;
      if (t.details) {
        const room = Math.max(width - visible - secs.length - 3, 0);
        const d = t.details.length > room ? t.details.slice(0, Math.max(room - 3, 0)) + '...' : t.details;
        if (d) {
          left += ' ' + d;
          visible += 1 + d.length;
        }
      }
      const pad = Math.max(width - visible - secs.length - 1, 1);
      lines.push(left + ' '.repeat(pad) + this.color.blue(secs));
    }
    if (shown.length < tasks.length) lines.push(` ... ${tasks.length - shown.length} more`);
    for (const l of lines) buf += `${ESC}2K${l}\n`;
    // Lines left over from a taller previous frame are cleared.
    for (let i = lines.length; i < this.linesDrawn; i++) buf += `${ESC}2K\n`;
    const drawn = Math.max(lines.length, this.linesDrawn);
    this.out.write(buf + `${ESC}?25h`);
    this.linesDrawn = drawn;
    this.frame++;
  }

  private mark(t: Task): string {
    switch (t.status) {
      case 'working':
        return this.color.green(SPINNER[this.frame % SPINNER.length]!);
      case 'done':
        return this.color.green('✔');
      case 'warning':
        return this.color.yellow('!');
      case 'error':
        return this.color.red('✘');
    }
  }

  private paint(status: EventStatus, s: string): string {
    if (status === 'error') return this.color.red(s);
    if (status === 'warning') return this.color.yellow(s);
    return this.color.green(s);
  }
}
