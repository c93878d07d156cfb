/**
 * Load + validate time of compose files: the largest corpus file, a
 * generated 500-service file, and the WordPress corpus file (startup),
 * ours against Docker Compose v1 (`docker-compose config -q`, Debian's
 * 1.29) on the same files in the same run, interleaved:
 *   - the CLI process, `tscompose config -q` (what a user waits for);
 *   - loadProject() in this process, warm (what `up` pays to load), with
 *     the same peer, for the ratio the loader alone achieves.
 * The generated file uses syntax v1 accepts (no top-level `name:`, images
 * only: v1 checks that build contexts exist).
 *
 *   npx tsc -p tsconfig.bench.json && node dist-bench/bench/project-load.js [runs]
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { comparePair, fmt, timeMedian } from './harness.js';
import { loadProject } from '../src/project/load.js';

// dist-bench/bench/ → the checkout, whose bin/tscompose runs the built dist/.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(repoRoot, 'bin', 'tscompose');
const CORPUS = join(repoRoot, '..', 'shared', 'corpus', 'awesome-compose');

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${r.stderr}`);
}

/** The corpus file with the most lines. */
function largestCorpusFile(): string {
  let best = { file: '', lines: 0 };
  for (const d of readdirSync(CORPUS)) {
    for (const name of ['compose.yaml', 'compose.yml']) {
      const f = join(CORPUS, d, name);
      if (!existsSync(f)) continue;
      const lines = readFileSync(f, 'utf8').split('\n').length;
      if (lines > best.lines) best = { file: f, lines };
    }
  }
  return best.file;
}

/** 500 services with environment, ports, volumes, networks, healthchecks and a dependency chain every 10. */
function generated(dir: string, count = 500): string {
  const lines = ['services:'];
  for (let i = 0; i < count; i++) {
    lines.push(
      `  svc${i}:`,
      `    image: registry.local/app${i % 7}:1.${i % 13}`,
      `    command: ["serve", "--port", "80"]`,
      `    restart: unless-stopped`,
      `    environment:`,
      `      - INDEX=${i}`,
      `      - ROLE=worker`,
      `      - PEER=svc${(i + 1) % count}`,
      `    ports:`,
      `      - "${20000 + i}:80"`,
      `    volumes:`,
      `      - data${i % 20}:/data`,
      `      - ./conf/svc${i}:/etc/app:ro`,
      `    networks: [net${i % 5}]`,
      `    healthcheck:`,
      `      test: ["CMD", "true"]`,
      `      interval: 30s`,
      `      retries: 3`,
      `    labels:`,
      `      tier: t${i % 3}`,
    );
    if (i % 10 !== 0) lines.push(`    depends_on: [svc${i - 1}]`);
  }
  lines.push('networks:');
  for (let n = 0; n < 5; n++) lines.push(`  net${n}: {}`);
  lines.push('volumes:');
  for (let v = 0; v < 20; v++) lines.push(`  data${v}: {}`);
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * A copy of a corpus folder where the build contexts exist (empty): v1
 * refuses a build context it cannot find, the corpus ships compose files only.
 */
async function withContexts(file: string, work: string): Promise<string> {
  const dir = join(work, basename(dirname(file)));
  cpSync(dirname(file), dir, { recursive: true });
  const project = await loadProject({ cwd: dir, onWarning: () => {} });
  for (const s of Object.values(project.services)) if (s.build && s.build.context.startsWith('/')) mkdirSync(s.build.context, { recursive: true });
  return join(dir, basename(file));
}

async function bench(label: string, file: string, runs: number): Promise<void> {
  const dir = dirname(file);
  console.log(`\n${label}: ${file} (${readFileSync(file, 'utf8').split('\n').length} lines, ${(statSync(file).size / 1024).toFixed(1)} KiB)`);
  const project = await loadProject({ cwd: dir, onWarning: () => {} });
  console.log(`  ${Object.keys(project.services).length} services`);
  const peer = { label: 'docker-compose config -q', run: () => run('docker-compose', ['config', '-q'], dir) };
  await comparePair({ label: '  tscompose config -q (process)', run: () => run(process.execPath, [CLI, 'config', '-q'], dir) }, peer, runs);
  await comparePair({ label: '  loadProject() (in process, warm)', run: async () => void (await loadProject({ cwd: dir, onWarning: () => {} })) }, peer, runs);
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 10);
  const work = mkdtempSync(join(tmpdir(), 'tsc-bench-spec-'));
  try {
    const nodeStart = await timeMedian({ label: 'node -e 0', run: () => run(process.execPath, ['-e', '0'], work) }, runs);
    console.log(`node -e 0 (the floor of any Node CLI): ${fmt(nodeStart)}`);
    const version = await timeMedian({ label: 'tscompose --version', run: () => run(process.execPath, [CLI, '--version'], work) }, runs);
    console.log(`tscompose --version (the CLI with every command registered, no loader): ${fmt(version)}`);
    await bench('startup (wordpress corpus file)', join(CORPUS, 'wordpress-mysql', 'compose.yaml'), runs);
    await bench('largest corpus file', await withContexts(largestCorpusFile(), work), runs);
    await bench('generated file', generated(work), Math.max(3, Math.floor(runs / 2)));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
