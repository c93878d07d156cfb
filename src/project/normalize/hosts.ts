import { isIP } from 'node:net';
import { isObj, scalarString, type At } from './context.js';

/** extra_hosts as `host: ip` (or a list of ips) or `host=ip` / `host:ip` strings; addresses may be in brackets. */
export function extraHosts(v: unknown, at: At): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (host: string, ips: string[], here: At) => {
    if (host === '' || /[:=]/.test(host)) {
      here.error(`extra_hosts: bad host name "${host}"`);
      return;
    }
    for (const raw of ips) {
      const ip = raw.replace(/^\[(.*)\]$/, '$1');
      if (ip !== 'host-gateway' && isIP(ip) === 0) here.error(`extra_hosts: "${ip}" for ${host} is not an IP address (or host-gateway)`);
      (out[host] ??= []).push(ip);
    }
  };
  if (Array.isArray(v)) {
    v.forEach((entry, i) => {
      const s = scalarString(entry);
      const sep = s.includes('=') ? '=' : ':';
      const cut = s.indexOf(sep);
      if (cut < 0) {
        at.child(i).error(`extra_hosts: "${s}" has no address; write host=ip`);
        return;
      }
      add(s.slice(0, cut), s.slice(cut + 1).split(','), at.child(i));
    });
  } else if (isObj(v)) {
    for (const [host, ips] of Object.entries(v)) add(host, Array.isArray(ips) ? ips.map(scalarString) : [scalarString(ips)], at.child(host));
  }
  return out;
}
