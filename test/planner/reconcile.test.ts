import { describe, expect, it } from 'vitest';
import { reconcile, type ReconcileOptions } from '../../src/planner/reconcile.js';
import { planDown } from '../../src/planner/down.js';
import { formatPlan, type Plan } from '../../src/planner/plan.js';
import type { Project } from '../../src/project/types.js';
import { UserError } from '../../src/util/errors.js';
import { FakeWorld, imageId, network, project, service, volume } from './fixtures.js';

/**
 * Golden plans: the text of each plan is the contract. No engine; FakeWorld
 * applies a plan to plain lists so that sequences (up, edit, up, down, up)
 * start from what the previous step really produced.
 */
function shop(): Project {
  return project(
    'shop',
    [
      service('db', {
        healthcheck: { test: ['CMD', 'true'], disable: false },
        volumes: [{ type: 'volume', source: 'data', target: '/var/lib/db', read_only: false }],
      }),
      service('web', { depends_on: { db: { condition: 'service_healthy', required: true, restart: true } }, environment: { A: '1' } }),
      service('worker', { depends_on: { db: { condition: 'service_started', required: true, restart: false } } }),
      service('cache'),
    ],
    { volumes: { data: volume('shop_data') } },
  );
}

function plan(p: Project, w: FakeWorld, o: ReconcileOptions = {}): Plan {
  return reconcile(p, w.observe(p), o);
}

function up(p: Project, w: FakeWorld, o: ReconcileOptions = {}): Plan {
  const pl = plan(p, w, o);
  w.apply(pl);
  return pl;
}

const text = (s: string) => s.replace(/^\n/, '');

const FRESH = text(`
#1 network:default CreateNetwork (not found)
#2 volume:data CreateVolume (not found)
#3 service:cache:1 CreateContainer (no container) <- #1
#4 service:cache:1 StartContainer (created) <- #3
#5 service:db:1 CreateContainer (no container) <- #1,#2
#6 service:db:1 StartContainer (created) <- #5
#7 service:web:1 CreateContainer (no container) <- #1
#8 service:db:1 WaitContainer (healthy, for web) <- #6
#9 service:web:1 StartContainer (created) <- #7,#8
#10 service:worker:1 CreateContainer (no container) <- #1
#11 service:worker:1 StartContainer (created) <- #6,#10
`);

describe('reconcile: golden plans', () => {
  it('fresh up: networks and volumes first, creates in parallel, starts gated on conditions', () => {
    expect(formatPlan(plan(shop(), new FakeWorld()))).toBe(FRESH);
  });

  it('no-op up: an empty plan', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    const again = plan(p, w);
    expect(formatPlan(again)).toBe('');
    expect(again.nodes).toHaveLength(0);
  });

  it('one environment change recreates only that service; restart: true dependents restart, others stay', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    p.services.db!.environment = { TUNING: 'fast' };
    expect(formatPlan(up(p, w))).toBe(
      text(`
#1 service:web:1 StopContainer (dependency db recreated)
#2 service:db:1 CreateContainer (config changed: environment.TUNING) <- #1
#3 service:db:1 StopContainer (replaced by #2) <- #2
#4 service:db:1 RemoveContainer (replaced by #2) <- #2,#3
#5 service:db:1 RenameContainer (finalize recreate) <- #4
#6 service:db:1 StartContainer (recreated) <- #5
#7 service:db:1 WaitContainer (healthy, for web) <- #6
#8 service:web:1 StartContainer (dependency db recreated) <- #1,#7
`),
    );
    expect(formatPlan(plan(p, w))).toBe('');
    // A leaf's change touches nothing else.
    p.services.cache!.environment = { SIZE: '64m' };
    p.services.cache!.labels = { tier: 'cache' };
    expect(formatPlan(plan(p, w))).toBe(
      text(`
#1 service:cache:1 CreateContainer (config changed: environment.SIZE, labels.tier)
#2 service:cache:1 StopContainer (replaced by #1) <- #1
#3 service:cache:1 RemoveContainer (replaced by #1) <- #1,#2
#4 service:cache:1 RenameContainer (finalize recreate) <- #3
#5 service:cache:1 StartContainer (recreated) <- #4
`),
    );
  });

  it('a recreated replacement is created under <oldid12>_<name>, then renamed', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    const oldId = w.containers.find((c) => c.name === 'shop-cache-1')!.id;
    p.services.cache!.command = ['sleep', '1'];
    const pl = plan(p, w);
    const create = pl.nodes.find((n) => n.op.kind === 'CreateContainer')!;
    expect(create.op.kind === 'CreateContainer' && create.op.spec.name).toBe(`${oldId.slice(0, 12)}_shop-cache-1`);
    expect(create.group).toBe('recreate:cache:1');
    const rename = pl.nodes.find((n) => n.op.kind === 'RenameContainer')!;
    expect(rename.op.kind === 'RenameContainer' && rename.op.name).toBe('shop-cache-1');
    w.apply(pl);
    expect(w.containers.map((c) => c.name).sort()).toEqual(['shop-cache-1', 'shop-db-1', 'shop-web-1', 'shop-worker-1']);
  });

  it('scale 1 → 3 → 1', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    p.services.web!.scale = 3;
    expect(formatPlan(up(p, w))).toBe(
      text(`
#1 service:web:2 CreateContainer (no container)
#2 service:db:1 WaitContainer (healthy, for web)
#3 service:web:2 StartContainer (created) <- #1,#2
#4 service:web:3 CreateContainer (no container)
#5 service:web:3 StartContainer (created) <- #2,#4
`),
    );
    expect(formatPlan(plan(p, w))).toBe('');
    expect(formatPlan(up(p, w, { scale: { web: 1 } }))).toBe(
      text(`
#1 service:web:3 StopContainer (scale down)
#2 service:web:3 RemoveContainer (scale down) <- #1
#3 service:web:2 StopContainer (scale down)
#4 service:web:2 RemoveContainer (scale down) <- #3
`),
    );
    expect(w.containers.filter((c) => c.name.startsWith('shop-web-')).map((c) => c.name)).toEqual(['shop-web-1']);
  });

  it('orphans are reported, and removed with --remove-orphans', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    delete p.services.cache;
    expect(formatPlan(plan(p, w))).toBe(
      'warning: Found orphan containers ([shop-cache-1]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.\n',
    );
    expect(formatPlan(up(p, w, { removeOrphans: true }))).toBe(
      text(`
#1 orphan:shop-cache-1 StopContainer (orphan)
#2 orphan:shop-cache-1 RemoveContainer (orphan) <- #1
`),
    );
    expect(formatPlan(plan(p, w))).toBe('');
  });

  it('COMPOSE_IGNORE_ORPHANS: orphans are neither warned about nor removed', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    delete p.services.cache;
    expect(formatPlan(plan(p, w, { ignoreOrphans: true }))).toBe('');
    expect(formatPlan(plan(p, w, { ignoreOrphans: true, removeOrphans: true }))).toBe('');
  });

  it('--yes on a volume whose configuration changed is refused (Compose would recreate it), without --yes it is kept with a warning', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    expect(formatPlan(plan(p, w, { assumeYes: true }))).toBe('');
    p.volumes.data = volume('shop_data', { driver_opts: { o: 'changed' } });
    expect(formatPlan(plan(p, w))).toMatch(/^warning: volume "shop_data" exists but doesn't match the configuration/m);
    expect(() => plan(p, w, { assumeYes: true })).toThrow(/--yes would recreate it \(its data lost\), which tscompose does not do/);
  });

  it('--all-resources makes the declared networks and volumes no service uses', () => {
    const p = project('lone', [service('web')], { networks: { spare: network('lone_spare') }, volumes: { unused: volume('lone_unused') } });
    const only = formatPlan(plan(p, new FakeWorld()));
    expect(only).not.toMatch(/spare|unused/);
    const all = formatPlan(plan(p, new FakeWorld(), { allResources: true }));
    expect(all).toMatch(/^#\d+ network:spare CreateNetwork/m);
    expect(all).toMatch(/^#\d+ volume:unused CreateVolume/m);
  });

  it('a service disabled by a profile is not an orphan', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    p.disabledServices.cache = { ...p.services.cache!, profiles: ['extra'] };
    delete p.services.cache;
    expect(formatPlan(plan(p, w))).toBe('');
  });

  it('a network whose config changed is recreated; its containers are reconnected, not recreated', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    const ids = w.containers.map((c) => c.id).sort();
    p.networks.default = network('shop_default', { internal: true });
    expect(formatPlan(up(p, w))).toBe(
      text(`
#1 service:cache:1 StopContainer (network default config changed)
#2 service:cache:1 DisconnectNetwork (network default config changed) <- #1
#3 service:db:1 StopContainer (network default config changed)
#4 service:db:1 DisconnectNetwork (network default config changed) <- #3
#5 service:web:1 StopContainer (network default config changed)
#6 service:web:1 DisconnectNetwork (network default config changed) <- #5
#7 service:worker:1 StopContainer (network default config changed)
#8 service:worker:1 DisconnectNetwork (network default config changed) <- #7
#9 network:default RemoveNetwork (config changed) <- #2,#4,#6,#8
#10 network:default CreateNetwork (config changed) <- #9
#11 service:cache:1 ConnectNetwork (network default config changed) <- #10
#12 service:db:1 ConnectNetwork (network default config changed) <- #10
#13 service:web:1 ConnectNetwork (network default config changed) <- #10
#14 service:worker:1 ConnectNetwork (network default config changed) <- #10
#15 service:cache:1 StartContainer (network default config changed) <- #1,#11
#16 service:db:1 StartContainer (network default config changed) <- #3,#12
#17 service:db:1 WaitContainer (healthy, for web) <- #16
#18 service:web:1 StartContainer (network default config changed) <- #5,#13,#17
#19 service:worker:1 StartContainer (network default config changed) <- #7,#14,#16
`),
    );
    expect(w.containers.map((c) => c.id).sort()).toEqual(ids);
    expect(formatPlan(plan(p, w))).toBe('');
  });

  it('a network change and a container change together: the old container leaves the old network, the new one joins the new', () => {
    const p = project('two', [service('app')]);
    const w = new FakeWorld();
    up(p, w);
    p.networks.default = network('two_default', { driver_opts: { mtu: '1400' } });
    p.services.app!.environment = { V: '2' };
    expect(formatPlan(up(p, w))).toBe(
      text(`
#1 service:app:1 StopContainer (network default config changed)
#2 service:app:1 DisconnectNetwork (network default config changed) <- #1
#3 network:default RemoveNetwork (config changed) <- #2
#4 network:default CreateNetwork (config changed) <- #3
#5 service:app:1 CreateContainer (config changed: environment.V) <- #4
#6 service:app:1 RemoveContainer (replaced by #5) <- #1,#5
#7 service:app:1 RenameContainer (finalize recreate) <- #6
#8 service:app:1 StartContainer (recreated) <- #7
`),
    );
    expect(formatPlan(plan(p, w))).toBe('');
  });

  it('a named volume is kept across down/up; down -v removes it', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    const down = planDown(w.observe(p), { project: p });
    expect(formatPlan(down)).toBe(
      text(`
#1 service:cache:1 StopContainer (down)
#2 service:web:1 StopContainer (down)
#3 service:worker:1 StopContainer (down)
#4 service:db:1 StopContainer (down) <- #2,#3
#5 service:cache:1 RemoveContainer (down) <- #1
#6 service:db:1 RemoveContainer (down) <- #4
#7 service:web:1 RemoveContainer (down) <- #2
#8 service:worker:1 RemoveContainer (down) <- #3
#9 network:default RemoveNetwork (down) <- #5,#6,#7,#8
`),
    );
    w.apply(down);
    expect(w.containers).toEqual([]);
    expect(w.volumes.map((v) => v.name)).toEqual(['shop_data']);
    // The next up creates no volume: the data is still there.
    expect(formatPlan(up(p, w))).toBe(
      text(`
#1 network:default CreateNetwork (not found)
#2 service:cache:1 CreateContainer (no container) <- #1
#3 service:cache:1 StartContainer (created) <- #2
#4 service:db:1 CreateContainer (no container) <- #1
#5 service:db:1 StartContainer (created) <- #4
#6 service:web:1 CreateContainer (no container) <- #1
#7 service:db:1 WaitContainer (healthy, for web) <- #5
#8 service:web:1 StartContainer (created) <- #6,#7
#9 service:worker:1 CreateContainer (no container) <- #1
#10 service:worker:1 StartContainer (created) <- #5,#9
`),
    );
    const downV = planDown(w.observe(p), { project: p, volumes: true });
    expect(formatPlan(downV)).toContain('#10 volume:data RemoveVolume (down -v) <- #5,#6,#7,#8\n');
    w.apply(downV);
    expect(w.volumes).toEqual([]);
    expect(w.networks).toEqual([]);
  });

  it('down removes anonymous volumes (inherited ones too) after every container using them', () => {
    const p = project('anon', [service('a', { volumes: [{ type: 'volume', target: '/cache', read_only: false }] })]);
    const w = new FakeWorld();
    up(p, w);
    const anon = w.containers[0]!.mounts[0]!.name!;
    expect(anon).toMatch(/^[0-9a-f]{64}$/);
    // A recreate passes the anonymous volume on, by name.
    p.services.a!.environment = { V: '2' };
    const recreate = plan(p, w);
    const create = recreate.nodes.find((n) => n.op.kind === 'CreateContainer')!;
    expect(create.op.kind === 'CreateContainer' && create.op.spec.mounts).toEqual([{ type: 'volume', source: anon, target: '/cache', readOnly: false, noCopy: undefined, subpath: undefined }]);
    w.apply(recreate);
    expect(formatPlan(planDown(w.observe(p), { project: p }))).toBe(
      text(`
#1 service:a:1 StopContainer (down)
#2 service:a:1 RemoveContainer (down) <- #1
#3 volume:${anon.slice(0, 12)} RemoveVolume (anonymous) [optional] <- #2
#4 network:default RemoveNetwork (down) <- #2
`),
    );
  });

  it('a volume whose config changed is kept, with a warning', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    p.volumes.data = volume('shop_data', { driver_opts: { type: 'tmpfs', device: 'tmpfs' } });
    const pl = plan(p, w);
    expect(pl.nodes).toEqual([]);
    expect(pl.warnings).toEqual([
      'volume "shop_data" exists but doesn\'t match the configuration in the compose file; it is kept as it is (recreating it would lose its data: remove it with `down -v` to apply the new configuration)',
    ]);
  });

  it('--force-recreate recreates everything; dependents stopped once', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    delete p.services.cache;
    delete p.services.worker;
    expect(formatPlan(plan(p, w, { recreate: 'force' }))).toBe(
      text(`
#1 service:web:1 StopContainer (dependency db recreated)
#2 service:db:1 CreateContainer (--force-recreate) <- #1
#3 service:db:1 StopContainer (replaced by #2) <- #2
#4 service:db:1 RemoveContainer (replaced by #2) <- #2,#3
#5 service:db:1 RenameContainer (finalize recreate) <- #4
#6 service:db:1 StartContainer (recreated) <- #5
#7 service:web:1 CreateContainer (--force-recreate)
#8 service:web:1 RemoveContainer (replaced by #7) <- #1,#7
#9 service:web:1 RenameContainer (finalize recreate) <- #8
#10 service:db:1 WaitContainer (healthy, for web) <- #6
#11 service:web:1 StartContainer (recreated) <- #9,#10
warning: Found orphan containers ([shop-cache-1, shop-worker-1]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.
`),
    );
  });

  it('--no-recreate keeps diverged containers; stopped ones are only started', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    p.services.db!.environment = { CHANGED: 'yes' };
    expect(formatPlan(plan(p, w, { recreate: 'never', recreateDependencies: 'never' }))).toBe('');
    w.containers.find((c) => c.name === 'shop-cache-1')!.state = 'exited';
    expect(formatPlan(plan(p, w, { recreate: 'never', recreateDependencies: 'never' }))).toBe('#1 service:cache:1 StartContainer (not running)\n');
  });

  it('--no-deps touches only the named services; without it their dependencies converge too', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    p.services.db!.environment = { CHANGED: 'yes' };
    p.services.web!.environment = { A: '2' };
    expect(formatPlan(plan(p, w, { services: ['web'], noDeps: true }))).toBe(
      text(`
#1 service:web:1 CreateContainer (config changed: environment.A)
#2 service:web:1 StopContainer (replaced by #1) <- #1
#3 service:web:1 RemoveContainer (replaced by #1) <- #1,#2
#4 service:web:1 RenameContainer (finalize recreate) <- #3
#5 service:web:1 StartContainer (recreated) <- #4
`),
    );
    const withDeps = formatPlan(plan(p, w, { services: ['web'] }));
    expect(withDeps).toContain('service:db:1 CreateContainer (config changed: environment.CHANGED)');
    expect(withDeps).not.toContain('worker');
    expect(withDeps).not.toContain('cache');
  });

  it('a new image id recreates', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    w.images['busybox:latest'] = imageId('busybox:latest', 2);
    const pl = formatPlan(plan(p, w));
    expect(pl).toContain('#1 service:cache:1 CreateContainer (image changed)\n');
    expect(pl.match(/CreateContainer \(image changed\)/g)).toHaveLength(4);
  });

  it('changed content of a config or secret recreates (the hash holds content, not paths)', () => {
    const p = project('cfg', [
      service('app', {
        configs: [{ source: 'conf', target: '/etc/app.conf' }],
        secrets: [{ source: 'token' }],
      }),
    ]);
    p.configs.conf = { name: 'cfg_conf', content: 'a=1', external: false, labels: {} };
    p.secrets.token = { name: 'cfg_token', environment: 'TOKEN', external: false, labels: {} };
    p.environment.TOKEN = 'one';
    const w = new FakeWorld();
    const first = up(p, w);
    const create = first.nodes.find((n) => n.op.kind === 'CreateContainer')!;
    expect(create.op.kind === 'CreateContainer' && create.op.spec.files!.map((f) => [f.target, f.content.toString(), f.mode.toString(8)])).toEqual([
      ['/etc/app.conf', 'a=1', '444'],
      ['/run/secrets/token', '', '444'],
    ]);
    expect(formatPlan(plan(p, w))).toBe('');
    p.configs.conf = { ...p.configs.conf, content: 'a=2' };
    expect(formatPlan(plan(p, w))).toContain('#1 service:app:1 CreateContainer (config changed: config conf content)');
  });

  it('an interrupted recreate (two containers for one number) converges', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    p.services.cache!.environment = { V: '2' };
    const pl = plan(p, w);
    // Crash right after the replacement was created: old and new both exist.
    w.apply({ nodes: pl.nodes.filter((n) => n.op.kind === 'CreateContainer'), warnings: [] });
    expect(w.containers.filter((c) => c.labels['com.docker.compose.service'] === 'cache')).toHaveLength(2);
    const next = plan(p, w);
    expect(formatPlan(next)).toMatch(/^#1 service:cache:1 StopContainer \(duplicate of shop-cache-1\)\n#2 service:cache:1 RemoveContainer \(duplicate of shop-cache-1\) <- #1\n#3 service:cache:1 CreateContainer \(config changed: environment.V\) <- #2\n/);
    w.apply(next);
    expect(formatPlan(plan(p, w))).toBe('');
    expect(w.containers.filter((c) => c.labels['com.docker.compose.service'] === 'cache').map((c) => c.name)).toEqual(['shop-cache-1']);
  });

  it('a crash after the old container was removed leaves the replacement under its temporary name: it is renamed', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    p.services.cache!.environment = { V: '2' };
    const pl = plan(p, w);
    w.apply({ nodes: pl.nodes.filter((n) => n.group === 'recreate:cache:1' && n.op.kind !== 'RenameContainer'), warnings: [] });
    const tmp = w.containers.find((c) => c.labels['com.docker.compose.service'] === 'cache')!;
    expect(tmp.name).toMatch(/^[0-9a-f]{12}_shop-cache-1$/);
    expect(formatPlan(plan(p, w))).toBe(`#1 service:cache:1 RenameContainer (named ${tmp.name})\n#2 service:cache:1 StartContainer (not running) <- #1\n`);
  });

  it('service_completed_successfully: a job that exited 0 is not run again; required: false waits are optional', () => {
    const p = project('jobs', [
      service('migrate', { command: ['true'] }),
      service('app', {
        depends_on: {
          migrate: { condition: 'service_completed_successfully', required: true, restart: false },
          metrics: { condition: 'service_healthy', required: false, restart: false },
        },
      }),
      service('metrics'),
    ]);
    const w = new FakeWorld();
    expect(formatPlan(up(p, w))).toBe(
      text(`
#1 network:default CreateNetwork (not found)
#2 service:metrics:1 CreateContainer (no container) <- #1
#3 service:metrics:1 StartContainer (created) <- #2
#4 service:migrate:1 CreateContainer (no container) <- #1
#5 service:migrate:1 StartContainer (created) <- #4
#6 service:app:1 CreateContainer (no container) <- #1
#7 service:metrics:1 WaitContainer (healthy, for app) [optional] <- #3
#8 service:migrate:1 WaitContainer (completed successfully, for app) <- #5
#9 service:app:1 StartContainer (created) <- #6,#7,#8
`),
    );
    const job = w.containers.find((c) => c.name === 'jobs-migrate-1')!;
    job.state = 'exited';
    job.exitCode = 0;
    expect(formatPlan(plan(p, w))).toBe('');
    // A failed job runs again, and the app (still running) has it checked: a second failure fails the up.
    job.exitCode = 1;
    expect(formatPlan(plan(p, w))).toBe('#1 service:migrate:1 StartContainer (not running)\n#2 service:migrate:1 WaitContainer (completed successfully, for app) <- #1\n');
  });

  it('up --wait ends with a wait on every started container; create (no start) plans no start', () => {
    const p = project('w', [service('a'), service('b', { depends_on: { a: { condition: 'service_started', required: true, restart: false } } })]);
    expect(formatPlan(plan(p, new FakeWorld(), { wait: true, waitTimeoutMs: 5000 }))).toBe(
      text(`
#1 network:default CreateNetwork (not found)
#2 service:a:1 CreateContainer (no container) <- #1
#3 service:a:1 StartContainer (created) <- #2
#4 service:a:1 WaitContainer (running or healthy (--wait)) <- #3
#5 service:b:1 CreateContainer (no container) <- #1
#6 service:b:1 StartContainer (created) <- #3,#5
#7 service:b:1 WaitContainer (running or healthy (--wait)) <- #6
`),
    );
    expect(formatPlan(plan(p, new FakeWorld(), { start: false }))).toBe(
      text(`
#1 network:default CreateNetwork (not found)
#2 service:a:1 CreateContainer (no container) <- #1
#3 service:b:1 CreateContainer (no container) <- #1
`),
    );
  });

  it('start: only existing containers, in dependency order', () => {
    const p = shop();
    const w = new FakeWorld();
    up(p, w);
    for (const c of w.containers) c.state = 'exited';
    expect(formatPlan(plan(p, w, { onlyExisting: true }))).toBe(
      text(`
#1 service:cache:1 StartContainer (not running)
#2 service:db:1 StartContainer (not running)
#3 service:db:1 WaitContainer (healthy, for web) <- #2
#4 service:web:1 StartContainer (not running) <- #3
#5 service:worker:1 StartContainer (not running) <- #2
`),
    );
  });

  it('network_mode service:x follows x: created after it, recreated with it', () => {
    const p = project('ns', [service('vpn'), service('app', { network_mode: 'service:vpn', depends_on: { vpn: { condition: 'service_started', required: true, restart: false } } })]);
    const w = new FakeWorld();
    const first = up(p, w);
    const appCreate = first.nodes.find((n) => n.resource === 'service:app:1' && n.op.kind === 'CreateContainer')!;
    expect(appCreate.op.kind === 'CreateContainer' && appCreate.op.spec.networkMode).toBe('container:ns-vpn-1');
    expect(appCreate.deps).toContain(first.nodes.find((n) => n.resource === 'service:vpn:1' && n.op.kind === 'CreateContainer')!.id);
    p.services.vpn!.environment = { V: '1' };
    const second = formatPlan(plan(p, w));
    expect(second).toContain('service:vpn:1 CreateContainer (config changed: environment.V)');
    expect(second).toContain('service:app:1 CreateContainer (vpn recreated) <- #4');
  });

  it('refuses what cannot be done, naming the object and the fix', () => {
    const ext = project('e', [service('a', { networks: { outside: null } })]);
    ext.networks = { outside: network('corp_net', { external: true }) };
    expect(() => plan(ext, new FakeWorld())).toThrow(/network corp_net declared as external, but could not be found/);
    const named = project('n', [service('a', { container_name: 'fixed', scale: 2 })]);
    expect(() => plan(named, new FakeWorld())).toThrow(UserError);
    expect(() => plan(named, new FakeWorld())).toThrow(/container_name "fixed" and cannot have 2 replicas/);
    const dis = project('d', [service('a', { depends_on: { b: { condition: 'service_started', required: true, restart: false } } })]);
    dis.disabledServices.b = service('b', { profiles: ['debug'] });
    expect(() => plan(dis, new FakeWorld())).toThrow(/service "b" is required by "a" but is disabled/);
    const w = new FakeWorld();
    w.networks.push({ id: 'x', name: 'c_default', driver: 'bridge', scope: 'local', internal: false, labels: {}, ipam: [], created: 0 });
    expect(() => plan(project('c', [service('a')]), w)).toThrow(/network c_default was found but has incorrect label com.docker.compose.network set to ""/);
  });
});
