/**
 * Durations and byte sizes as Compose writes them.
 *
 * Durations are Go durations ("1m30s", "1.5s", "500ms", "2h", plus "d" and
 * "w" as compose-go accepts); the model keeps milliseconds and `config`
 * prints them back the way Go's Duration.String() does. Byte sizes are
 * docker/go-units RAM sizes: a number, or a number with b, k, m, g, t or p
 * (powers of 1024, optional "i" and "b": 64m, 1GiB, 512kb).
 */

const DURATION_UNITS_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
  d: 86400e9,
  w: 7 * 86400e9,
};

export class UnitError extends Error {}

/** Parses a duration to milliseconds (fractional below 1 ms). */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '0' || s === '+0' || s === '-0') return 0;
  const m = /^([-+]?)((?:\d*\.?\d*[a-zµμ]+)+)$/.exec(s);
  if (!m) throw new UnitError(`"${text}" is not a duration (write it like 30s, 1m30s, 500ms or 2h)`);
  let ns = 0;
  const re = /(\d*\.?\d*)([a-zµμ]+)/g;
  for (let part = re.exec(m[2]!); part; part = re.exec(m[2]!)) {
    const [, num, unit] = part;
    const scale = DURATION_UNITS_NS[unit!];
    if (num === '' || num === '.' || scale === undefined) {
      throw new UnitError(`"${text}" is not a duration: ${scale === undefined ? `unknown unit "${unit}"` : 'a number is missing'} (units: ns, us, ms, s, m, h, d, w)`);
    }
    ns += Number(num) * scale;
  }
  return (m[1] === '-' ? -ns : ns) / 1e6;
}

/** Formats milliseconds as Go's time.Duration.String() would ("1m30s", "1.5s", "500ms", "0s"). */
export function formatDuration(ms: number): string {
  let ns = Math.round(ms * 1e6);
  if (ns === 0) return '0s';
  const neg = ns < 0;
  if (neg) ns = -ns;
  let out: string;
  if (ns < 1e9) {
    const [unit, scale] = ns < 1e3 ? ['ns', 1] : ns < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimFraction(ns / scale)}${unit}`;
  } else {
    const h = Math.floor(ns / 3600e9);
    const rest = ns - h * 3600e9;
    const min = Math.floor(rest / 60e9);
    const sec = (rest - min * 60e9) / 1e9;
    out = h > 0 ? `${h}h${min}m${trimFraction(sec)}s` : min > 0 ? `${min}m${trimFraction(sec)}s` : `${trimFraction(sec)}s`;
  }
  return neg ? `-${out}` : out;
}

function trimFraction(v: number): string {
  return Number(v.toFixed(9)).toString();
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Parses a byte size (number or string) to bytes. */
export function parseBytes(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new UnitError(`${value} is not a size in bytes`);
    return Math.floor(value);
  }
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(i?b?)$/i.exec(value.trim());
  if (!m || (m[3]!.toLowerCase() === 'i' && m[2] === '')) {
    throw new UnitError(`"${value}" is not a size (write it like 64m, 512k, 1g or a number of bytes)`);
  }
  return Math.floor(Number(m[1]) * BYTE_UNITS[m[2]!.toLowerCase()]!);
}
