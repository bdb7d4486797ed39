// End-to-end smoke test of server.js + headless-browser.js.
//
// Usage: node smoke.js        (exit 0 when every check passes)
//
// Starts server.js on an ephemeral port, drives authorization-code + PKCE
// flows through headless-browser.js (HEADLESS_BROWSER_NO_DELIVER=1) and checks
// the token endpoint, /api/me, refresh rotation + reuse detection, client
// authentication and denial. Prints every observed status and body.

import { spawn, execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
let failures = 0;

function log(line) {
  process.stdout.write(`${line}\n`);
}

function check(cond, label) {
  if (cond) {
    log(`  ok   ${label}`);
  } else {
    failures += 1;
    log(`  FAIL ${label}`);
  }
}

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, 'server.js')], {
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server did not get ready: ${err}`)), 10_000);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^READY (\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, issuer: m[1], stdout: () => out, stderr: () => err });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited early (${code}): ${err}`)));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function runBrowser(url, extraEnv = { HEADLESS_BROWSER_NO_DELIVER: '1' }) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(here, 'headless-browser.js'), url], {
      env: { ...process.env, ...extraEnv },
      timeout: 20_000,
    }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

function pkcePair() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

function authorizationUrl(issuer, { clientId, redirectUri, challenge, state, scope = 'openid api:read', extra = {} }) {
  const url = new URL('/auth', issuer);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  return url.href;
}

async function post(url, form, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

async function getMe(issuer, token) {
  const res = await fetch(new URL('/api/me', issuer), {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: res.status, www: res.headers.get('www-authenticate'), text: await res.text() };
}

function basic(id, secret) {
  // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

function redact(text) {
  return text.replace(/"(access_token|refresh_token|id_token)":"[^"]+"/g, '"$1":"…"');
}

async function authorize(issuer, clientId, { scope, extra } = {}) {
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const { verifier, challenge } = pkcePair();
  const state = crypto.randomBytes(12).toString('base64url');
  const url = authorizationUrl(issuer, { clientId, redirectUri, challenge, state, scope, extra });
  const br = await runBrowser(url);
  const callback = br.code === 0 ? new URL(br.stdout.trim()) : undefined;
  return { redirectUri, verifier, state, br, callback };
}

async function main() {
  const server = await startServer();
  const { issuer } = server;
  const token = new URL('/token', issuer).href;
  log(`server: ${server.stdout().trim()}`);

  try {
    // 1. public-native authorization code + PKCE
    log('\n[1] public-native: authorize (openid api:read)');
    const a = await authorize(issuer, 'public-native');
    log(`  browser exit ${a.br.code}; stdout: ${a.br.stdout.trim()}; stderr: ${a.br.stderr.trim()}`);
    check(a.br.code === 0 && a.callback, 'browser printed a callback URL');
    const cb = a.callback;
    check(cb?.searchParams.get('code'), 'callback has code');
    check(cb?.searchParams.get('state') === a.state, 'callback state matches');
    check(cb?.searchParams.get('iss') === issuer, `callback iss = ${cb?.searchParams.get('iss')}`);

    log('\n[2] token exchange');
    const t1 = await post(token, {
      grant_type: 'authorization_code',
      code: cb.searchParams.get('code'),
      code_verifier: a.verifier,
      client_id: 'public-native',
      redirect_uri: a.redirectUri,
    });
    log(`  ${t1.status} ${t1.headers.get('content-type')} ${redact(t1.text)}`);
    check(t1.status === 200 && t1.json?.access_token && t1.json?.refresh_token, 'access + refresh token issued');

    log('\n[3] GET /api/me');
    const me = await getMe(issuer, t1.json.access_token);
    log(`  ${me.status} ${me.text}`);
    check(me.status === 200, '/api/me 200');
    const meNone = await getMe(issuer, undefined);
    log(`  no header: ${meNone.status} WWW-Authenticate: ${meNone.www} ${meNone.text}`);
    check(meNone.status === 401 && !/error=/.test(meNone.www), 'no token: 401 without error code');
    const meBad = await getMe(issuer, 'not-a-token');
    log(`  bad token: ${meBad.status} WWW-Authenticate: ${meBad.www} ${meBad.text}`);
    check(meBad.status === 401 && /error="invalid_token"/.test(meBad.www), 'bad token: 401 invalid_token');

    log('\n[4] refresh (rotation)');
    const r1 = await post(token, {
      grant_type: 'refresh_token', refresh_token: t1.json.refresh_token, client_id: 'public-native',
    });
    log(`  ${r1.status} ${redact(r1.text)}`);
    check(r1.status === 200 && r1.json?.refresh_token && r1.json.refresh_token !== t1.json.refresh_token, 'new refresh token');

    log('\n[5] replay OLD refresh token');
    const r2 = await post(token, {
      grant_type: 'refresh_token', refresh_token: t1.json.refresh_token, client_id: 'public-native',
    });
    log(`  ${r2.status} ${r2.text}`);
    check(r2.status === 400 && r2.json?.error === 'invalid_grant', 'old refresh token: 400 invalid_grant');

    log('\n[6] NEW refresh token after reuse detection');
    const r3 = await post(token, {
      grant_type: 'refresh_token', refresh_token: r1.json.refresh_token, client_id: 'public-native',
    });
    log(`  ${r3.status} ${r3.text}`);
    check(r3.status === 400 && r3.json?.error === 'invalid_grant', 'new refresh token: 400 invalid_grant (grant revoked)');
    const me2 = await getMe(issuer, r1.json.access_token);
    log(`  /api/me with the access token from the refresh: ${me2.status} ${me2.text}`);
    check(me2.status === 401, 'access token of the revoked grant is dead too');

    log('\n[7] confidential-basic with form-urlencoded Basic credentials');
    const b = await authorize(issuer, 'confidential-basic');
    check(b.br.code === 0, `browser ok (${b.br.stderr.trim() || 'no stderr'})`);
    const secret = 'interop-secret-with-special-chars:+/=%';
    const tb = await post(token, {
      grant_type: 'authorization_code',
      code: b.callback.searchParams.get('code'),
      code_verifier: b.verifier,
      redirect_uri: b.redirectUri,
    }, { authorization: basic('confidential-basic', secret) });
    log(`  Authorization: ${basic('confidential-basic', secret)}`);
    log(`  ${tb.status} ${redact(tb.text)}`);
    check(tb.status === 200 && tb.json?.refresh_token, 'confidential-basic token exchange 200 with refresh token');
    const rb = await post(token, {
      grant_type: 'refresh_token', refresh_token: tb.json.refresh_token,
    }, { authorization: basic('confidential-basic', secret) });
    log(`  refresh: ${rb.status} ${redact(rb.text)}`);
    check(rb.status === 200 && rb.json?.refresh_token !== tb.json.refresh_token, 'confidential-basic refresh rotates');

    log('\n[7b] Basic WITHOUT form-urlencoding the secret');
    const raw = `Basic ${Buffer.from(`confidential-basic:${secret}`).toString('base64')}`;
    const traw = await post(token, { grant_type: 'refresh_token', refresh_token: rb.json.refresh_token }, { authorization: raw });
    log(`  ${traw.status} WWW-Authenticate: ${traw.headers.get('www-authenticate')} ${traw.text}`);

    log('\n[8] wrong secret (Basic)');
    const w = await authorize(issuer, 'confidential-basic');
    const tw = await post(token, {
      grant_type: 'authorization_code',
      code: w.callback.searchParams.get('code'),
      code_verifier: w.verifier,
      redirect_uri: w.redirectUri,
    }, { authorization: basic('confidential-basic', 'wrong-secret') });
    log(`  ${tw.status} WWW-Authenticate: ${tw.headers.get('www-authenticate')} ${tw.text}`);
    check(tw.status === 401 && tw.json?.error === 'invalid_client', 'wrong secret: 401 invalid_client');

    log('\n[8b] confidential-post');
    const p = await authorize(issuer, 'confidential-post');
    const tp = await post(token, {
      grant_type: 'authorization_code',
      code: p.callback.searchParams.get('code'),
      code_verifier: p.verifier,
      redirect_uri: p.redirectUri,
      client_id: 'confidential-post',
      client_secret: 'interop-post-secret',
    });
    log(`  ${tp.status} ${redact(tp.text)}`);
    check(tp.status === 200 && tp.json?.refresh_token, 'confidential-post token exchange 200');

    log('\n[9] wrong code_verifier');
    const v = await authorize(issuer, 'public-native');
    const tv = await post(token, {
      grant_type: 'authorization_code',
      code: v.callback.searchParams.get('code'),
      code_verifier: pkcePair().verifier,
      client_id: 'public-native',
      redirect_uri: v.redirectUri,
    });
    log(`  ${tv.status} ${tv.text}`);
    check(tv.status === 400 && tv.json?.error === 'invalid_grant', 'wrong verifier: 400 invalid_grant');
    const tv2 = await post(token, {
      grant_type: 'authorization_code',
      code: v.callback.searchParams.get('code'),
      code_verifier: v.verifier,
      client_id: 'public-native',
      redirect_uri: v.redirectUri,
    });
    log(`  same code, right verifier afterwards: ${tv2.status} ${redact(tv2.text)}`);

    log('\n[10] test_decision=deny');
    const d = await authorize(issuer, 'public-native', { extra: { test_decision: 'deny' } });
    log(`  browser exit ${d.br.code}; stdout: ${d.br.stdout.trim()}`);
    check(d.callback?.searchParams.get('error') === 'access_denied', 'callback error=access_denied');
    check(d.callback?.searchParams.get('state') === d.state, 'deny callback state matches');
    check(d.callback?.searchParams.get('iss') === issuer, 'deny callback carries iss');

    log('\n[11] scope "api:read" without openid');
    const n = await authorize(issuer, 'public-native', { scope: 'api:read' });
    log(`  browser exit ${n.br.code}; stdout: ${n.br.stdout.trim()}; stderr: ${n.br.stderr.trim()}`);
    if (n.callback?.searchParams.get('code')) {
      const tn = await post(token, {
        grant_type: 'authorization_code',
        code: n.callback.searchParams.get('code'),
        code_verifier: n.verifier,
        client_id: 'public-native',
        redirect_uri: n.redirectUri,
      });
      log(`  ${tn.status} ${redact(tn.text)}`);
      check(tn.status === 200 && tn.json?.scope === 'api:read' && tn.json?.refresh_token && !tn.json?.id_token,
        'plain OAuth: scope api:read, refresh token, no id_token');
      const mn = await getMe(issuer, tn.json.access_token);
      log(`  /api/me: ${mn.status} ${mn.text}`);
    } else {
      check(false, 'plain OAuth authorization succeeded');
    }

    log('\n[12] delivery mode (browser GETs the callback)');
    const port = await freePort();
    const got = [];
    const http = await import('node:http');
    const listener = http.createServer((req, res) => {
      got.push(req.url);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('done');
    });
    await new Promise((r) => listener.listen(port, '127.0.0.1', r));
    const { challenge } = pkcePair();
    const del = await runBrowser(authorizationUrl(issuer, {
      clientId: 'public-native', redirectUri: `http://127.0.0.1:${port}/callback`, challenge, state: 'xyz',
    }), {});
    listener.close();
    log(`  browser exit ${del.code}; stdout: ${JSON.stringify(del.stdout)}; stderr: ${del.stderr.trim()}`);
    log(`  listener received: ${got.join(', ')}`);
    check(del.code === 0 && got.length === 1 && got[0].startsWith('/callback?code='), 'listener received the callback');

    log('\n[13] browser failure modes');
    const bad = await runBrowser(`${issuer}/auth?client_id=nope&response_type=code`, {});
    log(`  unknown client: exit ${bad.code}; stderr: ${bad.stderr.trim()}`);
    check(bad.code !== 0, 'unknown client: non-zero exit');
    const noListener = await runBrowser(authorizationUrl(issuer, {
      clientId: 'public-native', redirectUri: `http://127.0.0.1:${await freePort()}/callback`, challenge, state: 's',
    }), {});
    log(`  nobody listening on callback: exit ${noListener.code}; stderr: ${noListener.stderr.trim()}`);
    check(noListener.code !== 0, 'undeliverable callback: non-zero exit');
  } finally {
    server.child.kill('SIGTERM');
    const code = await new Promise((r) => server.child.on('exit', (c, s) => r(c ?? s)));
    log(`\nserver exit on SIGTERM: ${code}; server stdout was ${JSON.stringify(server.stdout())}`);
    check(code === 0, 'server exits 0 on SIGTERM');
  }

  log(failures ? `\n${failures} check(s) FAILED` : '\nall checks passed');
  process.exit(failures ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`smoke: ${err?.stack ?? err}\n`);
  process.exit(1);
});
