import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** A private tmux server for one test: a real terminal for the CLI under test. */
export class Tmux {
  readonly socket: string;
  constructor(private readonly root: { dir: string; env: NodeJS.ProcessEnv }) {
    this.socket = join(root.dir, 'tmux.sock');
  }
  tmux(...args: string[]): string {
    const r = spawnSync('tmux', ['-S', this.socket, ...args], { encoding: 'utf8', env: this.root.env });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }
  /** Runs `command` in a new 100x30 session; its exit code lands in `<dir>/<name>.exit`. */
  start(name: string, command: string): void {
    const exitFile = join(this.root.dir, `${name}.exit`);
    for (let attempt = 0; ; attempt++) {
      try {
        this.tmux('new-session', '-d', '-s', name, '-x', '100', '-y', '30', `${command}; echo $? > ${exitFile}`);
        return;
      } catch (err) {
        // tmux's server leaves with its last session: a session started just after the previous one ended
        // can reach the server on its way out. The next attempt starts a new server.
        if (attempt >= 20 || !/server exited unexpectedly|lost server/.test((err as Error).message)) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
    }
  }
  screen(name: string): string {
    return this.tmux('capture-pane', '-p', '-t', name);
  }
  async waitFor(name: string, pattern: RegExp): Promise<string> {
    for (let i = 0; i < 250; i++) {
      const s = this.screen(name);
      if (pattern.test(s)) return s;
      await sleep(20);
    }
    throw new Error(`tmux ${name}: ${pattern} never showed; screen:\n${this.screen(name)}`);
  }
  async exitCode(name: string): Promise<number> {
    const f = join(this.root.dir, `${name}.exit`);
    // The shell makes the file (the redirection) before echo writes the status into it: read it once its line is whole.
    const line = () => (existsSync(f) ? readFileSync(f, 'utf8') : '');
    for (let i = 0; i < 500 && !line().endsWith('\n'); i++) await sleep(20);
    if (!line().endsWith('\n')) throw new Error(`tmux ${name}: no exit status within 10 s; screen:\n${this.screen(name)}`);
    return Number(line());
  }
  kill(): void {
    spawnSync('tmux', ['-S', this.socket, 'kill-server']);
  }
}
