// Shared pieces of the headless "user": a minimal cookie jar and the device
// flow (RFC 8628) user-code confirmation driver.
//
// Used by headless-browser.js (`--device` mode) and by server.js
// (`/__test/device/approve`). No dependencies besides Node's global fetch.

const USER_AGENT = 'interop-headless-browser/1';
const DEVICE_MAX_STEPS = 20;

export class BrowserError extends Error {
  constructor(message, details = {}) {
    super(message);
    this.name = 'BrowserError';
    Object.assign(this, details);
  }
}

// ---------------------------------------------------------------------------
// Minimal cookie jar (RFC 6265 subset: host-only cookies, Path, Max-Age, Expires)

export class CookieJar {
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
// Tiny HTML helpers (enough for oidc-provider's and server.js's device pages)

export function snippet(text) {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 500 ? `${oneLine.slice(0, 500)}...` : oneLine;
}

function decodeEntities(value) {
  return value.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|#39);/gi, (m, e) => {
    const lower = e.toLowerCase();
    if (lower === 'amp') return '&';
    if (lower === 'lt') return '<';
    if (lower === 'gt') return '>';
    if (lower === 'quot') return '"';
    if (lower === 'apos' || lower === '#39') return "'";
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return m;
  });
}

function attributes(tag) {
  const out = {};
  const re = /([^\s=/>]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
  const inner = tag.replace(/^<\s*[a-z]+/i, '').replace(/\/?>$/, '');
  for (const m of inner.matchAll(re)) {
    out[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

function metaContent(html, name) {
  for (const m of html.matchAll(/<meta\b[^>]*>/gi)) {
    const a = attributes(m[0]);
    if (a.name === name) return a.content;
  }
  return undefined;
}

function title(html) {
  const m = /<title>([^<]*)<\/title>/i.exec(html);
  return m ? decodeEntities(m[1]).trim() : undefined;
}

// All <form>s with their action, method, id and the name/value of their
// <input>s (hidden or not; inputs without a value attribute get '').
export function parseForms(html) {
  const forms = [];
  for (const m of html.matchAll(/(<form\b[^>]*>)([\s\S]*?)<\/form>/gi)) {
    const a = attributes(m[1]);
    const inputs = [];
    for (const im of m[2].matchAll(/<input\b[^>]*>/gi)) {
      const ia = attributes(im[0]);
      if (ia.name) inputs.push([ia.name, ia.value ?? '']);
    }
    forms.push({
      id: a.id, action: a.action, method: (a.method ?? 'get').toLowerCase(), inputs,
    });
  }
  return forms;
}

// ---------------------------------------------------------------------------
// Device flow driver
//
// Acts as the user who opens verification_uri_complete in a browser and
// confirms (or aborts) the request: follows redirects with a cookie jar,
// auto-submits oidc-provider's form_post page, submits the confirmation form
// (adding abort=yes when denying), goes through /interaction/... (login,
// consent) and stops at the final page. Resolves to
//   { outcome: 'approved' | 'denied', trace: [...] }
// and rejects with a BrowserError for anything else (unknown, expired or used
// user code, unexpected pages, timeouts).

export async function completeDeviceFlow(verificationUriComplete, {
  deny = false,
  timeoutMs = 15_000,
  userAgent = USER_AGENT,
  onStep = () => {},
} = {}) {
  let current;
  try {
    current = new URL(verificationUriComplete);
  } catch {
    throw new BrowserError(`not a valid URL: ${verificationUriComplete}`, { usage: true });
  }
  if (current.protocol !== 'http:' && current.protocol !== 'https:') {
    throw new BrowserError(`unsupported URL scheme: ${current.protocol}`, { usage: true });
  }

  const signal = AbortSignal.timeout(timeoutMs);
  const origin = current.origin;
  const jar = new CookieJar();
  const trace = [];
  let request = { method: 'GET', url: current, body: undefined };

  for (let step = 0; step < DEVICE_MAX_STEPS; step += 1) {
    const headers = { 'user-agent': userAgent, accept: 'text/html,*/*' };
    const cookie = jar.header(request.url);
    if (cookie) headers.cookie = cookie;
    if (request.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';

    let res;
    try {
      res = await fetch(request.url, {
        method: request.method,
        redirect: 'manual',
        headers,
        body: request.body,
        signal,
      });
    } catch (err) {
      const cause = err?.cause?.message ?? err?.cause?.code ?? '';
      const what = err?.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : `${err?.message ?? err}${cause ? ` (${cause})` : ''}`;
      throw new BrowserError(`${request.method} ${request.url} failed: ${what}`, { trace });
    }
    jar.store(request.url, res.headers.getSetCookie());
    const body = await res.text().catch(() => '');
    const entry = `${request.method} ${request.url.pathname} -> ${res.status}`;

    if (res.status >= 300 && res.status <= 399 && res.status !== 304) {
      const location = res.headers.get('location');
      trace.push(`${entry} ${location}`);
      onStep(trace.at(-1));
      if (!location) {
        throw new BrowserError(`${entry} without a Location header`, { trace });
      }
      const next = new URL(location, request.url);
      if (next.origin !== origin) {
        throw new BrowserError(`${entry} redirected away from the provider: ${next}`, { trace });
      }
      request = { method: 'GET', url: next, body: undefined };
      continue;
    }

    const page = metaContent(body, 'interop-device-page');
    const pageTitle = title(body);
    trace.push(`${entry} ${page ?? pageTitle ?? res.headers.get('content-type') ?? ''}`);
    onStep(trace.at(-1));

    if (page === 'success' || (!page && pageTitle === 'Sign-in Success')) {
      return { outcome: 'approved', trace };
    }

    const forms = parseForms(body);

    if (page === 'input' || (!page && pageTitle === 'Sign-in')) {
      const errorName = metaContent(body, 'interop-device-error');
      const error = metaContent(body, 'interop-device-oauth-error');
      const description = metaContent(body, 'interop-device-oauth-error-description');
      if (errorName === 'AbortedError' || error === 'access_denied') {
        return { outcome: 'denied', trace };
      }
      const why = errorName
        ? `${errorName}${error ? `: ${error}${description ? ` (${description})` : ''}` : ''}`
        : `the user code input page (no user_code given?): ${snippet(body)}`;
      throw new BrowserError(`device flow stopped at ${why}`, {
        trace, errorName, error, description, status: res.status,
      });
    }

    if (res.status !== 200) {
      throw new BrowserError(`${entry}: ${snippet(body)}`, { trace, status: res.status });
    }

    let form;
    const extra = [];
    if (page === 'confirm' || forms.some((f) => f.id === 'op.deviceConfirmForm')) {
      form = forms.find((f) => f.id === 'op.deviceConfirmForm');
      if (deny) extra.push(['abort', 'yes']); // the page's "[ Abort ]" button
    } else if (forms.length === 1 && forms[0].method === 'post') {
      // oidc-provider's auto-submitting form_post page (GET /device?user_code=...)
      [form] = forms;
    }
    if (!form) {
      throw new BrowserError(`${entry}: unexpected page: ${snippet(body)}`, { trace, status: res.status });
    }
    if (!form.inputs.some(([name]) => name === 'xsrf')) {
      throw new BrowserError(`${entry}: form without an xsrf input: ${snippet(body)}`, { trace });
    }
    const action = new URL(form.action ?? request.url.href, request.url);
    if (action.origin !== origin) {
      throw new BrowserError(`${entry}: form posts away from the provider: ${action}`, { trace });
    }
    request = {
      method: 'POST',
      url: action,
      body: new URLSearchParams([...form.inputs, ...extra]).toString(),
    };
  }

  throw new BrowserError(`too many steps (${DEVICE_MAX_STEPS}) without reaching a final page`, { trace });
}
