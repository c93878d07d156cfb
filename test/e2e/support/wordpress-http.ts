import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a WordPress site answered: status, body, and the cookies it set. */
export interface Answer {
  status: number;
  body: string;
  cookies: string[];
  location?: string;
}

/** One HTTP request to 127.0.0.1 (the only place tests send traffic), without following redirects. */
export async function request(url: string, init: { method?: string; form?: Record<string, string>; cookies?: string[] } = {}): Promise<Answer> {
  if (!/^http:\/\/127\.\d+\.\d+\.\d+[:/]/.test(url)) throw new Error(`tests only talk to 127.0.0.0/8, not ${url}`);
  const headers: Record<string, string> = {};
  if (init.cookies?.length) headers.cookie = init.cookies.join('; ');
  let body: string | undefined;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  const res = await fetch(url, {
    method: init.method ?? (init.form ? 'POST' : 'GET'),
    headers,
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(30_000),
  });
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]!);
  return { status: res.status, body: await res.text(), cookies, location: res.headers.get('location') ?? undefined };
}

/**
 * Polls a URL until `done` accepts the answer; returns it with the time it
 * took. On timeout the error shows the last answer (or connection error).
 */
export async function waitForAnswer(url: string, done: (a: Answer) => boolean, timeoutMs: number): Promise<Answer & { ms: number }> {
  const t0 = Date.now();
  let last = 'no answer yet';
  while (Date.now() - t0 < timeoutMs) {
    try {
      const a = await request(url);
      if (done(a)) return { ...a, ms: Date.now() - t0 };
      last = `HTTP ${a.status}: ${a.body.slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).cause ? String((err as Error).cause) : String(err);
    }
    await sleep(200);
  }
  throw new Error(`${url} did not give the expected answer within ${timeoutMs / 1000} s; last: ${last}`);
}

/** The `<title>` of a page, entities left as they are. */
export function title(html: string): string | undefined {
  return /<title>([^<]*)<\/title>/i.exec(html)?.[1]?.trim();
}

/** A TCP port free on 127.0.0.1 right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface SiteOwner {
  title: string;
  user: string;
  password: string;
  email: string;
}

/** Completes WordPress's install form (install.php?step=2), as a browser would post it. */
export async function installSite(base: string, owner: SiteOwner): Promise<Answer> {
  return request(`${base}/wp-admin/install.php?step=2`, {
    form: {
      weblog_title: owner.title,
      user_name: owner.user,
      admin_password: owner.password,
      admin_password2: owner.password,
      pw_weak: '1',
      admin_email: owner.email,
      blog_public: '0',
    },
  });
}

/** Logs in through wp-login.php; returns the session cookies. */
export async function logIn(base: string, user: string, password: string): Promise<string[]> {
  const testCookie = 'wordpress_test_cookie=WP%20Cookie%20check';
  const a = await request(`${base}/wp-login.php`, {
    form: { log: user, pwd: password, testcookie: '1', 'wp-submit': 'Log In', redirect_to: `${base}/wp-admin/` },
    cookies: [testCookie],
  });
  if (a.status !== 302 || !a.cookies.some((c) => c.startsWith('wordpress_logged_in_'))) {
    throw new Error(`logging in as ${user} failed: HTTP ${a.status}, cookies ${a.cookies.join(', ') || 'none'}\n${a.body.slice(0, 500)}`);
  }
  return [testCookie, ...a.cookies];
}
