// Headless stand-in for a user's browser, used as the BROWSER command.
//
// Usage: node headless-browser.js <authorization URL>
//        node headless-browser.js --device <verification_uri_complete> [--deny]
//
// Authorization code mode (default):
// Follows the authorization URL (manual redirects, with a cookie jar) through
// the provider's interaction pages until the provider redirects to a different
// origin: that Location is the client's redirect URI (callback). Then it
// performs a plain GET of the callback, as a browser would, and prints the
// callback's HTTP status line to stderr.
//
// HEADLESS_BROWSER_NO_DELIVER=1: print the callback URL on stdout instead of
// requesting it.
//
// Device mode (--device): opens verification_uri_complete (the device
// authorization response member, .../device?user_code=XXXX-XXXX), submits the
// user-code confirmation form, goes through login and consent, and stops at
// the final page. Without --deny it confirms; with --deny it presses the
// confirmation page's "Abort" button, so the device code ends with
// access_denied. Prints "approved" or "denied" on stdout and exits 0 when the
// outcome is the requested one; exits 1 otherwise (unknown, expired or
// already used user code, or the other outcome).
//
// Exit status 0 on success, non-zero (with a message on stderr) on failure;
// 2 for usage errors. Bounded to MAX_REDIRECTS redirects and TOTAL_TIMEOUT_MS
// overall.

import { CookieJar, BrowserError, completeDeviceFlow, snippet } from './browser-lib.js';

const MAX_REDIRECTS = 20;
const TOTAL_TIMEOUT_MS = 15_000;
const USER_AGENT = 'interop-headless-browser/1';

function fail(message, code = 1) {
  process.stderr.write(`headless-browser: ${message}\n`);
  process.exit(code);
}

// ---------------------------------------------------------------------------

async function drain(res) {
  try {
    return await res.text();
  } catch {
    return '';
  }
}

const USAGE = 'usage: node headless-browser.js <authorization URL>\n'
  + '       node headless-browser.js --device <verification_uri_complete> [--deny]';

async function deviceMain(args) {
  const deny = args.includes('--deny');
  const urls = args.filter((a) => a !== '--deny');
  if (urls.length !== 1 || urls[0].startsWith('--')) {
    fail(USAGE, 2);
  }
  let result;
  try {
    result = await completeDeviceFlow(urls[0], { deny, timeoutMs: TOTAL_TIMEOUT_MS, userAgent: USER_AGENT });
  } catch (err) {
    if (err instanceof BrowserError) {
      fail(`device: ${err.message}${err.trace?.length ? `\n  steps: ${err.trace.join('\n         ')}` : ''}`, err.usage ? 2 : 1);
    }
    throw err;
  }
  process.stderr.write(`headless-browser: device: ${result.trace.join(' | ')}\n`);
  process.stdout.write(`${result.outcome}\n`);
  const expected = deny ? 'denied' : 'approved';
  if (result.outcome !== expected) {
    fail(`device flow ended ${result.outcome}, expected ${expected}`);
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--device') {
    await deviceMain(args.slice(1));
    return;
  }
  if (args.length !== 1 || args[0].startsWith('--')) {
    fail(USAGE, 2);
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
