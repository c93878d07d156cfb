/**
 * The shared shape of every benchmark: time a subject and a peer in the same
 * run, interleaved (A B A B ...) so that drift in the machine's speed hits both,
 * and print medians and the median of per-pair ratios. Timings are never
 * asserted anywhere; they are printed for people to read.
 */
/**
 * A user's environment for every command a bench runs. This machine sets NODE_EXTRA_CA_CERTS (its
 * proxy's CA): with it, each Node process parses the whole CA bundle before its first line
 * (`node -e 0`: 510 M instructions with it, 89 M without; ~0.1 s), which a Debian machine as users
 * have it does not do and no peer pays (Go's docker CLI, Python's docker-compose and runc read
 * certificates only for TLS). So commands run without it, and each bench says so;
 * BENCH_KEEP_NODE_CA=1 keeps it, to measure this machine as it is.
 */
if (process.env.NODE_EXTRA_CA_CERTS && process.env.BENCH_KEEP_NODE_CA !== '1') {
  console.log(`(NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS} unset for the commands timed, as on a user's machine; BENCH_KEEP_NODE_CA=1 keeps it)`);
  delete process.env.NODE_EXTRA_CA_CERTS;
}

export interface Timed {
  label: string;
  run: () => Promise<void> | void;
}

export interface PairResult {
  subject: string;
  peer: string;
  subjectMedianMs: number;
  peerMedianMs: number;
  ratio: number;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function timeOnce(fn: () => Promise<void> | void): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * Runs subject and peer alternately `runs` times after `warmup` unrecorded pairs. `beforeSubject`,
 * untimed, brings the machine to the state each subject run must start from.
 */
export async function comparePair(subject: Timed, peer: Timed, runs = 10, warmup = 1, beforeSubject?: () => Promise<void>): Promise<PairResult> {
  for (let i = 0; i < warmup; i++) {
    await beforeSubject?.();
    await subject.run();
    await peer.run();
  }
  const a: number[] = [];
  const b: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    await beforeSubject?.();
    const ta = await timeOnce(subject.run);
    const tb = await timeOnce(peer.run);
    a.push(ta);
    b.push(tb);
    ratios.push(ta / tb);
  }
  const result = {
    subject: subject.label,
    peer: peer.label,
    subjectMedianMs: median(a),
    peerMedianMs: median(b),
    ratio: median(ratios),
  };
  printPair(result);
  return result;
}

/** Times one thing alone (for figures that have no same-shaped peer, printed beside one that has). */
export async function timeMedian(t: Timed, runs = 10, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await t.run();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) xs.push(await timeOnce(t.run));
  return median(xs);
}

export function printPair(r: PairResult): void {
  console.log(
    `${r.subject}: ${fmt(r.subjectMedianMs)}  |  ${r.peer}: ${fmt(r.peerMedianMs)}  |  ratio ${r.ratio.toFixed(3)} (subject/peer, median of pairs)`,
  );
}

export function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(2)} ms`;
}
