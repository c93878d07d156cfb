import { parseSignal } from '../../engine/native/runtime/signals.js';
import { errorAt } from '../dockerfile/errors.js';
import type { CommandForm, Instruction } from '../dockerfile/instructions.js';
import type { StageState } from '../state.js';
import { expand, expandList, type ConfigContext, type StepPlan } from './context.js';

/**
 * The instructions that only change the image config (ENV, ARG, LABEL,
 * USER, EXPOSE, VOLUME, STOPSIGNAL, CMD, ENTRYPOINT, HEALTHCHECK, SHELL,
 * ONBUILD, MAINTAINER): variables expanded in the stage's environment as it
 * is before the instruction (an ENV's pairs all see the old values, as in
 * Docker), then the change. They make no layer (`empty_layer` in history).
 */

type ConfigInstruction = Extract<Instruction, { kind: 'ARG' | 'ENV' | 'LABEL' | 'USER' | 'EXPOSE' | 'VOLUME' | 'STOPSIGNAL' | 'CMD' | 'ENTRYPOINT' | 'HEALTHCHECK' | 'SHELL' | 'ONBUILD' | 'MAINTAINER' }>;

export function isConfigInstruction(i: Instruction): i is ConfigInstruction {
  return ['ARG', 'ENV', 'LABEL', 'USER', 'EXPOSE', 'VOLUME', 'STOPSIGNAL', 'CMD', 'ENTRYPOINT', 'HEALTHCHECK', 'SHELL', 'ONBUILD', 'MAINTAINER'].includes(i.kind);
}

/** The argv a RUN/CMD/ENTRYPOINT runs: exec form as is, shell form under the stage's SHELL. */
export function argvOf(cmd: CommandForm, state: StageState): string[] {
  return 'exec' in cmd ? cmd.exec : [...state.shell, cmd.shell];
}

const q = (s: string) => (/[\s"'\\]/.test(s) || s === '' ? JSON.stringify(s) : s);

export function planConfigStep(ctx: ConfigContext, state: StageState, instr: ConfigInstruction): StepPlan {
  const env = state.env;
  const pos = instr.pos;
  const plan = (createdBy: string, apply: (s: StageState) => void, description = createdBy): StepPlan => ({ createdBy, description, apply });
  switch (instr.kind) {
    case 'ARG': {
      // Each ARG sees the ones before it in the same instruction.
      const scope = new Map(env);
      const values: [string, string | undefined][] = [];
      for (const a of instr.args) {
        let value: string | undefined;
        if (Object.hasOwn(ctx.buildArgs, a.name)) {
          value = ctx.buildArgs[a.name];
          ctx.usedArgs.add(a.name);
        } else if (a.value !== undefined) {
          value = expand(a.value, scope, ctx, pos);
        } else {
          value = ctx.globalArgs.get(a.name);
        }
        values.push([a.name, value]);
        if (value !== undefined && !scope.has(a.name)) scope.set(a.name, value);
      }
      const text = `ARG ${values.map(([k, v]) => (v === undefined ? k : `${k}=${q(v)}`)).join(' ')}`;
      return plan(text, (s) => { for (const [k, v] of values) s.args.set(k, v); });
    }
    case 'ENV':
    case 'LABEL': {
      const pairs = instr.pairs.map(([k, v]) => [expand(k, env, ctx, pos), expand(v, env, ctx, pos)] as [string, string]);
      for (const [k] of pairs) if (!k) throw errorAt(pos, `${instr.kind} names can not be blank`);
      const text = `${instr.kind} ${pairs.map(([k, v]) => `${q(k)}=${q(v)}`).join(' ')}`;
      if (instr.kind === 'ENV') return plan(text, (s) => { for (const [k, v] of pairs) s.setEnv(k, v); });
      return plan(text, (s) => { s.image.Labels = { ...(s.image.Labels ?? {}), ...Object.fromEntries(pairs) }; });
    }
    case 'USER': {
      const user = expand(instr.user, env, ctx, pos);
      if (!user) throw errorAt(pos, 'USER requires exactly one argument (it expanded to nothing)');
      return plan(`USER ${user}`, (s) => { s.image.User = user; });
    }
    case 'EXPOSE': {
      const ports = instr.ports.flatMap((p) => expandList(p, env, ctx, pos)).flatMap((p) => exposedPorts(p, ctx, instr.pos));
      return plan(`EXPOSE map[${ports.map((p) => `${p}:{}`).join(' ')}]`, (s) => {
        s.image.ExposedPorts = { ...(s.image.ExposedPorts ?? {}), ...Object.fromEntries(ports.map((p) => [p, {}])) };
      });
    }
    case 'VOLUME': {
      const paths = instr.paths.map((p) => expand(p, env, ctx, pos));
      for (const p of paths) if (!p.trim()) throw errorAt(pos, 'VOLUME specified can not be an empty string');
      return plan(`VOLUME [${paths.join(' ')}]`, (s) => {
        s.image.Volumes = { ...(s.image.Volumes ?? {}), ...Object.fromEntries(paths.map((p) => [p, {}])) };
      });
    }
    case 'STOPSIGNAL': {
      const signal = expand(instr.signal, env, ctx, pos);
      try {
        parseSignal(signal, 'STOPSIGNAL');
      } catch (err) {
        throw errorAt(pos, (err as Error).message, 'Use a signal name (SIGTERM, SIGQUIT, SIGWINCH...) or number');
      }
      return plan(`STOPSIGNAL ${signal}`, (s) => { s.image.StopSignal = signal; });
    }
    case 'CMD': {
      const argv = argvOf(instr.cmd, state);
      return plan(`CMD ${JSON.stringify(argv)}`, (s) => {
        s.image.Cmd = argv;
        s.cmdSet = true;
      });
    }
    case 'ENTRYPOINT': {
      const argv = argvOf(instr.cmd, state);
      return plan(`ENTRYPOINT ${JSON.stringify(argv)}`, (s) => {
        s.image.Entrypoint = argv;
        // A CMD inherited from the base image does not fit a new entrypoint: Docker drops it.
        if (!s.cmdSet) s.image.Cmd = null;
      });
    }
    case 'HEALTHCHECK': {
      const h = instr.health;
      const hc = {
        Test: h.test,
        ...(h.interval !== undefined ? { Interval: h.interval } : {}),
        ...(h.timeout !== undefined ? { Timeout: h.timeout } : {}),
        ...(h.startPeriod !== undefined ? { StartPeriod: h.startPeriod } : {}),
        ...(h.startInterval !== undefined ? { StartInterval: h.startInterval } : {}),
        ...(h.retries !== undefined ? { Retries: h.retries } : {}),
      };
      return plan(`HEALTHCHECK ${JSON.stringify(hc)}`, (s) => { s.image.Healthcheck = hc; });
    }
    case 'SHELL':
      return plan(`SHELL ${JSON.stringify(instr.shell)}`, (s) => {
        s.shell = [...instr.shell];
        s.image.Shell = [...instr.shell];
      });
    case 'ONBUILD':
      return plan(`ONBUILD ${instr.trigger}`, (s) => { s.image.OnBuild = [...(s.image.OnBuild ?? []), instr.trigger]; });
    case 'MAINTAINER': {
      const name = expand(instr.name, env, ctx, pos);
      return plan(`MAINTAINER ${name}`, (s) => { s.config.author = name; });
    }
  }
}

/** "80", "80/udp", "8000-8002/tcp" → ["80/tcp"], ["80/udp"], ["8000/tcp", "8001/tcp", "8002/tcp"]. */
function exposedPorts(spec: string, _ctx: ConfigContext, pos: { file: string; line: number }): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(\w+))?$/.exec(spec);
  if (!m) throw errorAt(pos, `invalid port "${spec}" in EXPOSE`, 'EXPOSE PORT[/PROTO], e.g. 80, 53/udp, 8000-8010');
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw errorAt(pos, `invalid proto "${m[3]}" in EXPOSE ${spec}`, 'Use tcp, udp or sctp');
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  if (first < 1 || last > 65535 || last < first) throw errorAt(pos, `invalid port range "${spec}" in EXPOSE`, 'Ports are 1 to 65535');
  const out: string[] = [];
  for (let p = first; p <= last; p++) out.push(`${p}/${proto}`);
  return out;
}
