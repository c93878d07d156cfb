import type { TransferProgress } from '../../engine/types.js';

/**
 * Pull and push progress the way the docker CLI draws it: one line per
 * layer (`a1b2c3d4e5f6: Downloading [=====>     ]  12.3MB/45.6MB`), redrawn
 * in place on a terminal; elsewhere a line per status change and none for
 * byte counts, so logs stay readable.
 */
export class TransferRenderer {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private drawn = 0;
  private lastDraw = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stdout, private readonly tty = !!process.stdout.isTTY && !process.env.CI) {}

  readonly onProgress = (p: TransferProgress): void => {
    if (!p.id) {
      this.flushFrame();
      this.drawn = 0;
      this.out.write(`${p.status}\n`);
      return;
    }
    const text = `${p.id}: ${p.status}${p.total ? ` ${bar(p.current ?? 0, p.total)}` : ''}`;
    if (!this.tty) {
      if (p.current === undefined) this.out.write(`${p.id}: ${p.status}\n`);
      return;
    }
    if (!this.lines.has(p.id)) this.order.push(p.id);
    this.lines.set(p.id, text);
    const now = Date.now();
    if (p.current !== undefined && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.redraw();
  };

  private redraw(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A`);
    for (const id of this.order) this.out.write(`\x1b[2K${this.lines.get(id)}\n`);
    this.drawn = this.order.length;
  }

  /** Draws the last state of every line (before a message, or at the end). */
  flushFrame(): void {
    if (this.tty && this.order.length) this.redraw();
    this.order.length = 0;
    this.lines.clear();
  }
}

function human(n: number): string {
  if (n < 1000) return `${n}B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)}${units[i]}`;
}

function bar(current: number, total: number): string {
  const width = 50;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const body = filled >= width ? '='.repeat(width) : `${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}`;
  return `[${body}]  ${human(current)}/${human(total)}`;
}
