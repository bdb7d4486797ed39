// Headless stand-in for a user's browser, used as the BROWSER command.
//
// Usage: node headless-browser.js <authorization URL>
//
// Follows the authorization URL (manual redirects, with a cookie jar) through
// the provider's interaction pages until the provider redirects to a different
// origin: that Location is the client's redirect URI (callback). Then it
// performs a plain GET of the callback, as a browser would, and prints the
// callback's HTTP status line to stderr.
//
// HEADLESS_BROWSER_NO_DELIVER=1: print the callback URL on stdout instead of
// requesting it.
//
// Exit status 0 on success, non-zero (with a message on stderr) on failure.
// Bounded to MAX_REDIRECTS redirects and TOTAL_TIMEOUT_MS overall.

const MAX_REDIRECTS = 20;
const TOTAL_TIMEOUT_MS = 15_000;
const USER_AGENT = 'interop-headless-browser/1';

function fail(message, code = 1) {
  process.stderr.write(`headless-browser: ${message}\n`);
  process.exit(code);
}

// ---------------------------------------------------------------------------
// Minimal cookie jar (RFC 6265 subset: host-only cookies, Path, Max-Age, Expires)

class CookieJar {
  #cookies = new Map(); // key: host \0 path \0 name -> { host, path, name, value, expires }

  static #defaultPath(url) {
    const { pathname } = url;
    if (!pathname.startsWith('/')) return '/';
    const idx = pathname.lastIndexOf('/');
    return idx <= 0 ? '/' : pathname.slice(0, idx);
  }

  static #pathMatches(requestPath, cookiePath) {
    if (requestPath === cookiePath) return true;
    if (!requestPath.startsWith(cookiePath)) return false;
    return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
  }

  store(url, setCookieHeaders) {
    const now = Date.now();
    for (const header of setCookieHeaders) {
      const [pair, ...attrs] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = CookieJar.#defaultPath(url);
      let expires = Infinity;
      let maxAgeSeen = false;
      for (const attr of attrs) {
        const aeq = attr.indexOf('=');
        const key = (aeq === -1 ? attr : attr.slice(0, aeq)).trim().toLowerCase();
        const val = aeq === -1 ? '' : attr.slice(aeq + 1).trim();
        if (key === 'path' && val.startsWith('/')) {
          path = val;
        } else if (key === 'max-age' && /^-?\d+$/.test(val)) {
          maxAgeSeen = true;
          const secs = Number(val);
          expires = secs <= 0 ? 0 : now + secs * 1000;
        } else if (key === 'expires' && !maxAgeSeen) {
          const t = Date.parse(val);
          if (!Number.isNaN(t)) expires = t;
        }
      }
      const key = `${url.host}\0${path}\0${name}`;
      if (expires <= now) {
        this.#cookies.delete(key);
      } else {
        this.#cookies.set(key, { host: url.host, path, name, value, expires });
      }
    }
  }

  header(url) {
    const now = Date.now();
    const matching = [];
    for (const [key, c] of this.#cookies) {
      if (c.expires <= now) {
        this.#cookies.delete(key);
        continue;
      }
      if (c.host === url.host && CookieJar.#pathMatches(url.pathname, c.path)) {
        matching.push(c);
      }
    }
    // Longer paths first, as browsers do.
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

// ---------------------------------------------------------------------------

async function drain(res) {
  try {
    return await res.text();
  } catch {
    return '';
  }
}

function snippet(text) {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 500 ? `${oneLine.slice(0, 500)}...` : oneLine;
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 1) {
    fail('usage: node headless-browser.js <authorization URL>', 2);
  }

  let current;
  try {
    current = new URL(args[0]);
  } catch {
    fail(`not a valid URL: ${args[0]}`, 2);
  }
  if (current.protocol !== 'http:' && current.protocol !== 'https:') {
    fail(`unsupported URL scheme: ${current.protocol}`, 2);
  }

  const deadline = Date.now() + TOTAL_TIMEOUT_MS;
  let pending = current.href;
  const overall = setTimeout(() => {
    fail(`timed out after ${TOTAL_TIMEOUT_MS} ms (waiting for ${pending})`);
  }, TOTAL_TIMEOUT_MS);
  overall.unref();

  const remaining = () => Math.max(1, deadline - Date.now());
  const providerOrigin = current.origin;
  const jar = new CookieJar();

  let callback;
  for (let redirects = 0; ; redirects += 1) {
    const headers = { 'user-agent': USER_AGENT, accept: 'text/html,*/*' };
    const cookie = jar.header(current);
    if (cookie) headers.cookie = cookie;

    pending = current.href;
    let res;
    try {
      res = await fetch(current, {
        method: 'GET',
        redirect: 'manual',
        headers,
        signal: AbortSignal.timeout(remaining()),
      });
    } catch (err) {
      const cause = err?.cause?.message ?? err?.cause?.code ?? '';
      fail(`GET ${current} failed: ${err?.message ?? err}${cause ? ` (${cause})` : ''}`);
    }

    jar.store(current, res.headers.getSetCookie());

    if (res.status < 300 || res.status > 399 || res.status === 304) {
      const body = await drain(res);
      fail(`GET ${current} answered ${res.status} ${res.statusText} instead of a redirect: ${snippet(body)}`);
    }

    const location = res.headers.get('location');
    await drain(res);
    if (!location) {
      fail(`GET ${current} answered ${res.status} without a Location header`);
    }

    let next;
    try {
      next = new URL(location, current);
    } catch {
      fail(`GET ${current} redirected to an invalid Location: ${location}`);
    }

    if (next.origin !== providerOrigin) {
      callback = next;
      break;
    }

    if (redirects + 1 > MAX_REDIRECTS) {
      fail(`too many redirects (${MAX_REDIRECTS}) without reaching the client's redirect URI; last Location: ${next}`);
    }
    current = next;
  }

  if (process.env.HEADLESS_BROWSER_NO_DELIVER === '1') {
    process.stdout.write(`${callback.href}\n`);
    return;
  }

  if (callback.protocol !== 'http:' && callback.protocol !== 'https:') {
    fail(`cannot deliver callback with scheme ${callback.protocol}: ${callback.href}`);
  }

  pending = callback.href;
  let res;
  try {
    res = await fetch(callback, {
      method: 'GET',
      redirect: 'manual',
      headers: { 'user-agent': USER_AGENT, accept: 'text/html,*/*' },
      signal: AbortSignal.timeout(remaining()),
    });
  } catch (err) {
    const cause = err?.cause?.message ?? err?.cause?.code ?? '';
    fail(`delivering callback ${callback.href} failed: ${err?.message ?? err}${cause ? ` (${cause})` : ''}`);
  }
  await drain(res);
  process.stderr.write(`headless-browser: callback ${callback.origin}${callback.pathname} -> HTTP ${res.status} ${res.statusText}\n`);
}

main().then(
  () => process.exit(0),
  (err) => fail(`unexpected error: ${err?.stack ?? err}`),
);
