// End-to-end smoke test of server.js + headless-browser.js.
//
// Usage: node smoke.js        (exit 0 when every check passes)
//
// Starts server.js on an ephemeral port, drives authorization-code + PKCE
// flows through headless-browser.js (HEADLESS_BROWSER_NO_DELIVER=1) and checks
// the token endpoint, /api/me, refresh rotation + reuse detection, client
// authentication and denial; then discovery, the device flow (headless
// approval and denial), introspection, revocation, PAR, client_credentials and
// the zero-configuration path (RFC 9728 resource metadata -> RFC 8414
// discovery -> RFC 7591 registration -> code + PKCE with RFC 8707 resource).
// Prints every observed status and body.

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

function startServer(extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, 'server.js')], {
      env: { ...process.env, PORT: '0', ...extraEnv },
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

function runDevice(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(here, 'headless-browser.js'), '--device', ...args], {
      timeout: 20_000,
    }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function stopServer(server) {
  server.child.kill('SIGTERM');
  return new Promise((r) => server.child.on('exit', (c, s) => r(c ?? s)));
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
  return text.replace(/"(access_token|refresh_token|id_token|device_code|registration_access_token)":"[^"]+"/g, '"$1":"…"');
}

async function getJson(url, headers = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

async function postJson(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

// The value of one auth-param of a WWW-Authenticate header (quoted or token).
function authParam(header, name) {
  const m = new RegExp(`(?:^|[\\s,])${name}=(?:"([^"]*)"|([^\\s,]+))`, 'i').exec(header ?? '');
  return m ? (m[1] ?? m[2]) : undefined;
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const BASIC_SECRET = 'interop-secret-with-special-chars:+/=%';

async function deviceAuthorize(issuer, form, headers = {}) {
  return post(new URL('/device/auth', issuer).href, form, headers);
}

async function devicePoll(issuer, deviceCode, clientForm = { client_id: 'public-native' }, headers = {}) {
  return post(new URL('/token', issuer).href, { grant_type: DEVICE_GRANT, device_code: deviceCode, ...clientForm }, headers);
}

async function approveRoute(issuer, form) {
  return post(new URL('/__test/device/approve', issuer).href, form);
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

    // -----------------------------------------------------------------------
    log('\n[14] discovery');
    const disco = await fetch(new URL('/.well-known/openid-configuration', issuer));
    const dj = await disco.json();
    const relevant = [
      'issuer', 'token_endpoint', 'revocation_endpoint', 'introspection_endpoint',
      'device_authorization_endpoint', 'pushed_authorization_request_endpoint',
      'authorization_response_iss_parameter_supported', 'code_challenge_methods_supported',
      'grant_types_supported', 'token_endpoint_auth_methods_supported',
      'require_pushed_authorization_requests', 'request_uri_parameter_supported',
      'introspection_endpoint_auth_methods_supported', 'revocation_endpoint_auth_methods_supported',
    ];
    for (const k of relevant) log(`  ${k}: ${JSON.stringify(dj[k])}`);
    check(disco.status === 200, 'openid-configuration 200');
    check(dj.revocation_endpoint === `${issuer}/token/revocation`, 'revocation_endpoint');
    check(dj.introspection_endpoint === `${issuer}/token/introspection`, 'introspection_endpoint');
    check(dj.device_authorization_endpoint === `${issuer}/device/auth`, 'device_authorization_endpoint');
    check(dj.pushed_authorization_request_endpoint === `${issuer}/request`, 'pushed_authorization_request_endpoint');
    check(dj.authorization_response_iss_parameter_supported === true, 'authorization_response_iss_parameter_supported');
    check(JSON.stringify(dj.code_challenge_methods_supported) === '["S256"]', 'code_challenge_methods_supported ["S256"]');
    check(dj.grant_types_supported.includes('client_credentials') && dj.grant_types_supported.includes(DEVICE_GRANT),
      'grant_types_supported has client_credentials + device_code');
    const as = await fetch(new URL('/.well-known/oauth-authorization-server', issuer));
    const asText = await as.text();
    log(`  /.well-known/oauth-authorization-server: ${as.status} ${as.headers.get('content-type')}, ${asText === JSON.stringify(dj) ? 'identical to' : 'DIFFERENT from'} openid-configuration`);
    check(as.status === 200 && JSON.parse(asText).issuer === issuer, 'RFC 8414 path served');

    // -----------------------------------------------------------------------
    log('\n[15] device flow, public-native, approved with headless-browser.js --device');
    const da = await deviceAuthorize(issuer, { client_id: 'public-native', scope: 'openid api:read' });
    log(`  ${da.status} ${da.headers.get('content-type')} ${redact(da.text)}`);
    check(da.status === 200 && da.json?.device_code && da.json?.user_code, 'device authorization 200');
    check(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/.test(da.json?.user_code ?? ''), 'user_code XXXX-XXXX (base-20)');
    check(da.json?.verification_uri === `${issuer}/device`, 'verification_uri = issuer/device');
    check(da.json?.verification_uri_complete === `${issuer}/device?user_code=${da.json?.user_code}`, 'verification_uri_complete');
    check(typeof da.json?.expires_in === 'number' && da.json.expires_in > 0, `expires_in ${da.json?.expires_in}`);
    check(da.json && !('interval' in da.json), 'no interval member');
    const polls = [];
    for (let i = 0; i < 3; i += 1) polls.push(await devicePoll(issuer, da.json.device_code));
    for (const pl of polls) log(`  poll (no delay): ${pl.status} ${pl.text}`);
    check(polls.every((pl) => pl.status === 400 && pl.json?.error === 'authorization_pending'),
      'rapid polling: 400 authorization_pending each time (no slow_down)');
    const dv = await runDevice([da.json.verification_uri_complete]);
    log(`  browser exit ${dv.code}; stdout: ${dv.stdout.trim()}; stderr: ${dv.stderr.trim()}`);
    check(dv.code === 0 && dv.stdout === 'approved\n', 'headless-browser --device: exit 0, "approved"');
    const dt = await devicePoll(issuer, da.json.device_code);
    log(`  poll: ${dt.status} ${redact(dt.text)}`);
    check(dt.status === 200 && dt.json?.access_token && dt.json?.refresh_token && dt.json?.id_token
      && dt.json?.scope === 'openid api:read' && dt.json?.token_type === 'Bearer', 'device token response 200');
    const dme = await getMe(issuer, dt.json?.access_token);
    log(`  /api/me: ${dme.status} ${dme.text}`);
    check(dme.status === 200 && JSON.parse(dme.text).sub === 'alice', '/api/me with the device access token');
    const dt2 = await devicePoll(issuer, da.json.device_code);
    log(`  redeem again: ${dt2.status} ${dt2.text}`);
    check(dt2.status === 400 && dt2.json?.error === 'invalid_grant', 'redeemed device code: invalid_grant');
    const dmeAfter = await getMe(issuer, dt.json?.access_token);
    const driAfter = await post(new URL('/token/introspection', issuer).href, { token: dt.json?.refresh_token, client_id: 'public-native' });
    log(`  after the replay: /api/me ${dmeAfter.status}, refresh token introspection ${driAfter.text}`);
    check(dmeAfter.status === 401 && driAfter.json?.active === false, 'replaying a redeemed device code revokes the tokens it produced');
    const dvAgain = await runDevice([da.json.verification_uri_complete]);
    log(`  browser again: exit ${dvAgain.code}; stderr: ${dvAgain.stderr.trim().split('\n')[0]}`);
    check(dvAgain.code === 1, 'confirming a redeemed user code: exit 1');
    const dr = await devicePoll(issuer, da.json.device_code, {});
    log(`  poll without any client authentication: ${dr.status} ${dr.text}`);

    log('\n[16] device flow, confidential-basic, approved with POST /__test/device/approve');
    const bauth = { authorization: basic('confidential-basic', BASIC_SECRET) };
    const dab = await deviceAuthorize(issuer, { scope: 'api:read' }, bauth);
    log(`  device authorization with Basic (no client_id in body): ${dab.status} ${redact(dab.text)}`);
    check(dab.status === 200, 'confidential-basic device authorization 200');
    const wrongClient = await devicePoll(issuer, dab.json.device_code);
    log(`  polled by public-native: ${wrongClient.status} ${wrongClient.text}`);
    check(wrongClient.status === 400 && wrongClient.json?.error === 'invalid_grant', 'other client polling: invalid_grant');
    const ap = await approveRoute(issuer, { user_code: dab.json.user_code.toLowerCase().replace('-', ''), decision: 'approve' });
    log(`  approve (user code lower-cased, no dash): ${ap.status} ${ap.text}`);
    check(ap.status === 200 && ap.json?.outcome === 'approved', 'approve route 200 approved');
    const dtb = await devicePoll(issuer, dab.json.device_code, {}, bauth);
    log(`  poll with Basic: ${dtb.status} ${redact(dtb.text)}`);
    check(dtb.status === 200 && dtb.json?.scope === 'api:read' && dtb.json?.refresh_token && !dtb.json?.id_token,
      'confidential-basic device token 200');
    const apAgain = await approveRoute(issuer, { user_code: dab.json.user_code });
    log(`  approve again: ${apAgain.status} ${JSON.stringify({ error: apAgain.json?.error, device_error: apAgain.json?.device_error })}`);
    const apUnknown = await approveRoute(issuer, { user_code: 'BCDF-GHJK' });
    log(`  unknown user code: ${apUnknown.status} ${apUnknown.json?.error}: ${apUnknown.json?.error_description}`);
    check(apUnknown.status === 404 && apUnknown.json?.error === 'unknown_user_code', 'unknown user code: 404');
    const apBad = await approveRoute(issuer, { user_code: 'BCDF-GHJK', decision: 'maybe' });
    log(`  decision=maybe: ${apBad.status} ${apBad.text}`);
    check(apBad.status === 400, 'bad decision: 400');
    const daPost = await deviceAuthorize(issuer, { client_id: 'confidential-post', client_secret: 'interop-post-secret', scope: 'api:read' });
    log(`  confidential-post (no device grant): ${daPost.status} ${daPost.text}`);
    check(daPost.status === 400 && daPost.json?.error === 'invalid_request', 'client without the device grant: 400 invalid_request');
    const daUnknownRes = await deviceAuthorize(issuer, { client_id: 'public-native', scope: 'api:read', resource: 'https://nope.example' });
    log(`  unknown resource: ${daUnknownRes.status} ${daUnknownRes.text}`);

    log('\n[17] device flow denial');
    const dd1 = await deviceAuthorize(issuer, { client_id: 'public-native', scope: 'api:read' });
    const dvDeny = await runDevice([dd1.json.verification_uri_complete, '--deny']);
    log(`  headless-browser --device --deny: exit ${dvDeny.code}; stdout: ${dvDeny.stdout.trim()}; stderr: ${dvDeny.stderr.trim()}`);
    check(dvDeny.code === 0 && dvDeny.stdout === 'denied\n', 'headless-browser --deny: exit 0, "denied"');
    const pd1 = await devicePoll(issuer, dd1.json.device_code);
    log(`  poll: ${pd1.status} ${pd1.text}`);
    check(pd1.status === 400 && pd1.json?.error === 'access_denied', 'poll after abort: 400 access_denied');
    const pd1b = await devicePoll(issuer, dd1.json.device_code);
    log(`  poll again: ${pd1b.status} ${pd1b.text}`);
    const dd2 = await deviceAuthorize(issuer, { client_id: 'public-native', scope: 'api:read' });
    const apDeny = await approveRoute(issuer, { user_code: dd2.json.user_code, decision: 'deny' });
    log(`  route decision=deny: ${apDeny.status} ${apDeny.text}`);
    check(apDeny.status === 200 && apDeny.json?.outcome === 'denied', 'deny route 200 denied');
    const pd2 = await devicePoll(issuer, dd2.json.device_code);
    log(`  poll: ${pd2.status} ${pd2.text}`);
    check(pd2.status === 400 && pd2.json?.error === 'access_denied', 'poll after route deny: access_denied');
    const dd3 = await deviceAuthorize(issuer, { client_id: 'public-native', scope: 'api:read', test_decision: 'deny' });
    log(`  device authorization with test_decision=deny: ${dd3.status}`);
    const ap3 = await approveRoute(issuer, { user_code: dd3.json.user_code });
    log(`  route decision=approve: ${ap3.status} ${ap3.text}`);
    check(ap3.status === 409 && ap3.json?.outcome === 'denied', 'test_decision=deny beats approve: 409 outcome denied');
    const pd3 = await devicePoll(issuer, dd3.json.device_code);
    log(`  poll: ${pd3.status} ${pd3.text}`);
    check(pd3.status === 400 && pd3.json?.error === 'access_denied', 'poll after test_decision=deny: access_denied');

    // -----------------------------------------------------------------------
    log('\n[18] introspection and revocation');
    const introspection = new URL('/token/introspection', issuer).href;
    const revocation = new URL('/token/revocation', issuer).href;
    const sauth = { authorization: basic('service', 'service-secret') };
    // A fresh public-native token (the one from [15] died with the replay).
    const fda = await deviceAuthorize(issuer, { client_id: 'public-native', scope: 'openid api:read' });
    const fap = await approveRoute(issuer, { user_code: fda.json.user_code });
    const fdt = await devicePoll(issuer, fda.json.device_code);
    check(fap.status === 200 && fdt.status === 200, 'fresh public-native device token');
    const ia = await post(introspection, { token: fdt.json.access_token }, bauth);
    log(`  active access token (confidential-basic asks about public-native's token): ${ia.status} ${ia.headers.get('content-type')} ${ia.text}`);
    check(ia.status === 200 && ia.json?.active === true && ia.json?.sub === 'alice' && ia.json?.client_id === 'public-native'
      && ia.json?.token_type === 'Bearer' && ia.json?.scope === 'openid api:read', 'introspection: active access token');
    const iaOwn = await post(introspection, { token: fdt.json.access_token, client_id: 'public-native' });
    log(`  public-native, own token: ${iaOwn.status} ${iaOwn.text}`);
    check(iaOwn.json?.active === true, 'public client may introspect its own token');
    const iaOther = await post(introspection, { token: dtb.json.access_token, client_id: 'public-native' });
    log(`  public-native, confidential-basic's token: ${iaOther.status} ${iaOther.text}`);
    check(iaOther.status === 200 && iaOther.json?.active === false, "public client sees another client's token as inactive");
    const ir = await post(introspection, { token: fdt.json.refresh_token, token_type_hint: 'refresh_token' }, bauth);
    log(`  refresh token: ${ir.status} ${ir.text}`);
    const iNoAuth = await post(introspection, { token: fdt.json.access_token });
    log(`  no client authentication: ${iNoAuth.status} ${iNoAuth.text}`);
    check(iNoAuth.status === 400 && iNoAuth.json?.error === 'invalid_request', 'introspection without client auth: 400');
    const rOther = await post(revocation, { token: fdt.json.access_token }, bauth);
    log(`  confidential-basic revokes public-native's token: ${rOther.status} ${rOther.text}`);
    check(rOther.status === 400 && rOther.json?.error === 'invalid_request', "confidential client revoking another client's token: 400 invalid_request");
    const rOtherPub = await post(revocation, { token: dtb.json.access_token, client_id: 'public-native' });
    log(`  public-native revokes confidential-basic's token: ${rOtherPub.status} ${JSON.stringify(rOtherPub.text)}`);
    const stillActive = await post(introspection, { token: dtb.json.access_token }, bauth);
    check(rOtherPub.status === 200 && stillActive.json?.active === true, "public client revoking another client's token: 200, token untouched");
    const rOwn = await post(revocation, { token: fdt.json.access_token, token_type_hint: 'access_token', client_id: 'public-native' });
    log(`  public-native revokes its own access token: ${rOwn.status} ${rOwn.headers.get('content-type')} ${JSON.stringify(rOwn.text)}`);
    check(rOwn.status === 200 && rOwn.text === '', 'revocation 200, empty body');
    const iRevoked = await post(introspection, { token: fdt.json.access_token }, bauth);
    log(`  introspect revoked token: ${iRevoked.status} ${iRevoked.text}`);
    check(iRevoked.status === 200 && iRevoked.text === '{"active":false}', 'revoked token: {"active":false}');
    const iRevokedRt = await post(introspection, { token: fdt.json.refresh_token }, bauth);
    log(`  introspect its refresh token: ${iRevokedRt.status} ${iRevokedRt.text}`);
    check(iRevokedRt.json?.active === false, 'revoking the access token killed the grant (refresh token inactive)');
    const meRevoked = await getMe(issuer, fdt.json.access_token);
    check(meRevoked.status === 401, `/api/me with the revoked token: ${meRevoked.status}`);
    const rUnknownC = await post(revocation, { token: 'no-such-token' }, bauth);
    const rUnknownP = await post(revocation, { token: 'no-such-token', client_id: 'public-native' });
    log(`  unknown token: confidential ${rUnknownC.status} ${JSON.stringify(rUnknownC.text)}, public ${rUnknownP.status} ${JSON.stringify(rUnknownP.text)}`);
    check(rUnknownC.status === 200 && rUnknownP.status === 200, 'revocation of an unknown token: 200');
    const rRt = await post(revocation, { token: dtb.json.refresh_token, token_type_hint: 'refresh_token' }, bauth);
    const iRt = await post(introspection, { token: dtb.json.access_token }, bauth);
    log(`  confidential-basic revokes its refresh token: ${rRt.status}; its access token is then: ${iRt.text}`);
    check(rRt.status === 200 && iRt.json?.active === false, 'revoking a refresh token revokes the grant');
    const iUnknown = await post(introspection, { token: 'no-such-token' }, bauth);
    log(`  introspect unknown token: ${iUnknown.status} ${iUnknown.text}`);
    check(iUnknown.status === 200 && iUnknown.json?.active === false, 'unknown token: active false');
    const rNoToken = await post(revocation, {}, bauth);
    log(`  revocation without token: ${rNoToken.status} ${rNoToken.text}`);

    // -----------------------------------------------------------------------
    log('\n[19] PAR');
    const parEndpoint = new URL('/request', issuer).href;
    const pauth = { authorization: basic('par-required', 'par-secret') };
    const parPort = await freePort();
    const parRedirect = `http://127.0.0.1:${parPort}/callback`;
    const parPkce = pkcePair();
    const parForm = {
      response_type: 'code',
      redirect_uri: parRedirect,
      scope: 'openid api:read',
      state: 'par-state',
      code_challenge: parPkce.challenge,
      code_challenge_method: 'S256',
    };
    const parNoId = await post(parEndpoint, parForm, pauth);
    log(`  Basic, no client_id in body: ${parNoId.status} ${parNoId.text}`);
    check(parNoId.status === 400 && parNoId.json?.error === 'invalid_request', 'PAR without client_id in the body: 400');
    const par = await post(parEndpoint, { ...parForm, client_id: 'par-required' }, pauth);
    log(`  Basic + client_id: ${par.status} ${par.headers.get('content-type')} cache-control: ${par.headers.get('cache-control')} ${par.text}`);
    check(par.status === 201 && par.json?.request_uri?.startsWith('urn:ietf:params:oauth:request_uri:')
      && par.json?.expires_in === 60, 'PAR 201 with request_uri and expires_in 60');
    const parAuthUrl = new URL('/auth', issuer);
    parAuthUrl.search = new URLSearchParams({ client_id: 'par-required', request_uri: par.json.request_uri }).toString();
    const pb = await runBrowser(parAuthUrl.href);
    log(`  browser (client_id + request_uri only): exit ${pb.code}; stdout: ${pb.stdout.trim()}; stderr: ${pb.stderr.trim()}`);
    const pcb = pb.code === 0 ? new URL(pb.stdout.trim()) : undefined;
    check(pcb?.searchParams.get('code') && pcb.searchParams.get('state') === 'par-state'
      && pcb.searchParams.get('iss') === issuer && pcb.origin === new URL(parRedirect).origin, 'PAR authorization: code, pushed state, iss');
    const pt = await post(token, {
      grant_type: 'authorization_code',
      code: pcb?.searchParams.get('code'),
      code_verifier: parPkce.verifier,
      redirect_uri: parRedirect,
    }, pauth);
    log(`  token: ${pt.status} ${redact(pt.text)}`);
    check(pt.status === 200 && pt.json?.refresh_token && pt.json?.id_token, 'PAR code exchange 200');
    const pb2 = await runBrowser(parAuthUrl.href);
    log(`  same request_uri again: exit ${pb2.code}; stdout: ${pb2.stdout.trim()}`);
    check(new URL(pb2.stdout.trim() || 'http://x/').searchParams.get('error') === 'invalid_request_uri', 'reused request_uri: error=invalid_request_uri');
    const noPar = await authorize(issuer, 'par-required');
    log(`  par-required without PAR: exit ${noPar.br.code}; stdout: ${noPar.br.stdout.trim()}`);
    check(noPar.callback?.searchParams.get('error') === 'invalid_request'
      && /Pushed Authorization Request must be used/.test(noPar.callback?.searchParams.get('error_description') ?? ''),
    'par-required without PAR: error=invalid_request "Pushed Authorization Request must be used"');
    const parPublic = await post(parEndpoint, { ...parForm, client_id: 'public-native' });
    log(`  public-native may push too: ${parPublic.status} ${parPublic.text}`);
    const parBad = await post(parEndpoint, { ...parForm, client_id: 'par-required' }, { authorization: basic('par-required', 'wrong') });
    log(`  wrong secret: ${parBad.status} ${parBad.text}`);
    check(parBad.status === 401 && parBad.json?.error === 'invalid_client', 'PAR wrong secret: 401 invalid_client');
    const parNoPkce = await post(parEndpoint, {
      client_id: 'par-required', response_type: 'code', redirect_uri: parRedirect, scope: 'openid',
    }, pauth);
    log(`  without PKCE: ${parNoPkce.status} ${parNoPkce.text}`);
    check(parNoPkce.status === 400 && parNoPkce.json?.error === 'invalid_request', 'PAR without PKCE: 400 invalid_request');

    // -----------------------------------------------------------------------
    log('\n[20] client_credentials (service)');
    const cc = await post(token, { grant_type: 'client_credentials', scope: 'api:read' }, sauth);
    log(`  Authorization: ${sauth.authorization}`);
    log(`  scope=api:read: ${cc.status} ${cc.headers.get('content-type')} ${redact(cc.text)}`);
    check(cc.status === 200 && cc.json?.access_token && cc.json?.scope === 'api:read' && cc.json?.token_type === 'Bearer'
      && typeof cc.json?.expires_in === 'number' && !cc.json?.refresh_token && !cc.json?.id_token, 'client_credentials 200 scope api:read');
    const ccMe = await getMe(issuer, cc.json?.access_token);
    log(`  /api/me: ${ccMe.status} ${ccMe.text}`);
    check(ccMe.status === 200 && JSON.parse(ccMe.text).sub === 'service', '/api/me accepts the client_credentials token');
    const ccI = await post(introspection, { token: cc.json?.access_token }, sauth);
    log(`  introspection: ${ccI.status} ${ccI.text}`);
    check(ccI.json?.active === true && ccI.json?.client_id === 'service' && !('sub' in ccI.json), 'introspection: active, no sub');
    const ccUnknown = await post(token, { grant_type: 'client_credentials', scope: 'api:read api:unknown' }, sauth);
    log(`  scope=api:read api:unknown: ${ccUnknown.status} ${redact(ccUnknown.text)}`);
    const ccNone = await post(token, { grant_type: 'client_credentials' }, sauth);
    log(`  no scope: ${ccNone.status} ${redact(ccNone.text)}`);
    const ccRes = await post(token, { grant_type: 'client_credentials', scope: 'api:read', resource: 'https://api.example' }, sauth);
    log(`  resource=https://api.example: ${ccRes.status} ${redact(ccRes.text)}`);
    check(ccRes.status === 200 && ccRes.json?.scope === 'api:read', 'resource=https://api.example: 200 (opaque token)');
    const ccResI = await post(introspection, { token: ccRes.json?.access_token }, sauth);
    log(`  its introspection: ${ccResI.text}`);
    check(ccResI.json?.aud === 'https://api.example', 'resource-bound token has aud https://api.example');
    const ccBadRes = await post(token, { grant_type: 'client_credentials', scope: 'api:read', resource: 'https://other.example' }, sauth);
    log(`  resource=https://other.example: ${ccBadRes.status} ${ccBadRes.text}`);
    check(ccBadRes.status === 400 && ccBadRes.json?.error === 'invalid_target', 'unknown resource: 400 invalid_target');
    const ccWrong = await post(token, { grant_type: 'client_credentials', scope: 'api:read' }, { authorization: basic('service', 'wrong') });
    log(`  wrong secret: ${ccWrong.status} WWW-Authenticate: ${ccWrong.headers.get('www-authenticate')} ${ccWrong.text}`);
    check(ccWrong.status === 401 && ccWrong.json?.error === 'invalid_client', 'wrong secret: 401 invalid_client');
    const ccPost = await post(token, { grant_type: 'client_credentials', scope: 'api:read', client_id: 'service', client_secret: 'service-secret' });
    log(`  client_secret_post for a client_secret_basic client: ${ccPost.status} ${redact(ccPost.text)}`);
    const ccOther = await post(token, { grant_type: 'client_credentials', scope: 'api:read' }, bauth);
    log(`  confidential-basic (no client_credentials grant): ${ccOther.status} ${ccOther.text}`);
    check(ccOther.status === 400 && ccOther.json?.error === 'invalid_request', 'client without the grant: 400 invalid_request');
    const rCc = await post(revocation, { token: cc.json?.access_token }, sauth);
    const ccMe2 = await getMe(issuer, cc.json?.access_token);
    log(`  revoke it: ${rCc.status}; /api/me afterwards: ${ccMe2.status}`);
    check(rCc.status === 200 && ccMe2.status === 401, 'revoked client_credentials token is dead');

    // -----------------------------------------------------------------------
    log('\n[21] zero-configuration: resource URL -> RFC 9728 -> RFC 8414 -> RFC 7591 -> code + PKCE + RFC 8707');
    const resourceUrl = new URL('/api/me', issuer).href;
    log(`  starting from nothing but ${resourceUrl}`);
    const z1 = await getMe(issuer, undefined);
    log(`  GET /api/me (no token): ${z1.status} WWW-Authenticate: ${z1.www} ${z1.text}`);
    const metadataUrl = authParam(z1.www, 'resource_metadata');
    check(z1.status === 401 && /^Bearer /.test(z1.www ?? '') && !/error=/.test(z1.www)
      && metadataUrl === `${issuer}/.well-known/oauth-protected-resource/api`,
    '401 with Bearer resource_metadata="<issuer>/.well-known/oauth-protected-resource/api", no error');
    const zBad = await getMe(issuer, 'not-a-token');
    log(`  GET /api/me (bogus token): ${zBad.status} WWW-Authenticate: ${zBad.www}`);
    check(zBad.status === 401 && authParam(zBad.www, 'error') === 'invalid_token' && authParam(zBad.www, 'resource_metadata') === metadataUrl
      && authParam(zBad.www, 'realm') === 'interop', 'bogus token: realm, resource_metadata and error="invalid_token" together');

    const prm = await getJson(metadataUrl);
    log(`  GET ${metadataUrl}: ${prm.status} ${prm.headers.get('content-type')} ${prm.text}`);
    check(prm.status === 200 && prm.json?.resource === `${issuer}/api`
      && JSON.stringify(prm.json?.authorization_servers) === JSON.stringify([issuer])
      && JSON.stringify(prm.json?.scopes_supported) === '["api:read"]'
      && JSON.stringify(prm.json?.bearer_methods_supported) === '["header"]', 'protected resource metadata');
    const resource = prm.json?.resource;
    check(resource && resourceUrl.startsWith(`${resource}/`), `resource ${resource} covers ${resourceUrl}`);
    const prmPost = await post(metadataUrl, {});
    log(`  POST to it: ${prmPost.status}`);

    const asIssuer = prm.json?.authorization_servers?.[0];
    const asMeta = await getJson(`${asIssuer}/.well-known/oauth-authorization-server`);
    const oidcMeta = await getJson(`${asIssuer}/.well-known/openid-configuration`);
    log(`  GET ${asIssuer}/.well-known/oauth-authorization-server: ${asMeta.status}; issuer ${asMeta.json?.issuer}, registration_endpoint ${asMeta.json?.registration_endpoint}`);
    log(`  GET ${asIssuer}/.well-known/openid-configuration: ${oidcMeta.status}; registration_endpoint ${oidcMeta.json?.registration_endpoint}`);
    check(asMeta.status === 200 && asMeta.json?.issuer === asIssuer, 'RFC 8414 metadata of the listed issuer');
    check(asMeta.json?.registration_endpoint === `${issuer}/reg` && oidcMeta.json?.registration_endpoint === `${issuer}/reg`,
      'registration_endpoint <issuer>/reg in both documents');
    check(asMeta.json?.code_challenge_methods_supported?.includes('S256'), 'S256 advertised');
    const zAuthEndpoint = asMeta.json?.authorization_endpoint;
    const zTokenEndpoint = asMeta.json?.token_endpoint;

    const regRequest = {
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'native',
      client_name: 'x',
    };
    const zReg = await postJson(asMeta.json?.registration_endpoint, regRequest);
    log(`  POST ${asMeta.json?.registration_endpoint} ${JSON.stringify(regRequest)}`);
    log(`  -> ${zReg.status} ${zReg.headers.get('content-type')} cache-control: ${zReg.headers.get('cache-control')} ${redact(zReg.text)}`);
    check(zReg.status === 201 && typeof zReg.json?.client_id === 'string' && zReg.json.client_id.length > 0, 'registration 201 with client_id');
    check(zReg.json?.token_endpoint_auth_method === 'none' && !('client_secret' in (zReg.json ?? {}))
      && JSON.stringify(zReg.json?.redirect_uris) === '["http://127.0.0.1/callback"]'
      && JSON.stringify(zReg.json?.grant_types) === '["authorization_code","refresh_token"]', 'registered as asked, no client_secret');
    check(zReg.json?.registration_client_uri === `${issuer}/reg/${zReg.json?.client_id}` && zReg.json?.registration_access_token,
      'registration_client_uri and registration_access_token');
    const zClientId = zReg.json?.client_id;
    const zRead = await getJson(zReg.json?.registration_client_uri, { authorization: `Bearer ${zReg.json?.registration_access_token}` });
    log(`  GET registration_client_uri with the registration_access_token: ${zRead.status}`);
    check(zRead.status === 200 && zRead.json?.client_id === zClientId, 'client read (RFC 7592 GET) 200');

    const zNoRedirect = await postJson(asMeta.json?.registration_endpoint, { ...regRequest, redirect_uris: undefined });
    log(`  registration without redirect_uris: ${zNoRedirect.status} ${zNoRedirect.text}`);
    check(zNoRedirect.status === 400 && zNoRedirect.json?.error === 'invalid_redirect_uri', 'no redirect_uris: 400 invalid_redirect_uri');
    const zBadMethod = await postJson(asMeta.json?.registration_endpoint, { ...regRequest, token_endpoint_auth_method: 'bogus' });
    log(`  registration with token_endpoint_auth_method "bogus": ${zBadMethod.status} ${zBadMethod.text}`);
    check(zBadMethod.status === 400 && zBadMethod.json?.error === 'invalid_client_metadata', 'bad metadata: 400 invalid_client_metadata');
    const zForm = await post(asMeta.json?.registration_endpoint, { redirect_uris: 'http://127.0.0.1/callback' });
    log(`  form-encoded registration: ${zForm.status} ${zForm.text}`);
    check(zForm.status === 400 && zForm.json?.error === 'invalid_request', 'non-JSON registration: 400 invalid_request');

    const scope = prm.json?.scopes_supported?.join(' ');
    async function zAuthorize(zScope, extra = { resource }) {
      const zPort = await freePort();
      const redirectUri = `http://127.0.0.1:${zPort}/callback`;
      const { verifier, challenge: zChallenge } = pkcePair();
      const state = crypto.randomBytes(12).toString('base64url');
      const url = new URL(zAuthEndpoint);
      url.search = new URLSearchParams({
        response_type: 'code', client_id: zClientId, redirect_uri: redirectUri, scope: zScope, state,
        code_challenge: zChallenge, code_challenge_method: 'S256', ...extra,
      }).toString();
      const br = await runBrowser(url.href);
      const callback = br.code === 0 ? new URL(br.stdout.trim()) : undefined;
      return { redirectUri, verifier, state, br, callback, url: url.href };
    }
    const za = await zAuthorize(scope);
    log(`  authorize (scope "${scope}", resource ${resource}): browser exit ${za.br.code}; stdout: ${za.br.stdout.trim()}; stderr: ${za.br.stderr.trim()}`);
    check(za.callback?.searchParams.get('code') && za.callback.searchParams.get('state') === za.state
      && za.callback.searchParams.get('iss') === issuer && za.callback.origin === new URL(za.redirectUri).origin,
    'callback on the requested loopback port with code, state, iss');
    const zt = await post(zTokenEndpoint, {
      grant_type: 'authorization_code',
      code: za.callback?.searchParams.get('code'),
      code_verifier: za.verifier,
      client_id: zClientId,
      redirect_uri: za.redirectUri,
      resource,
    });
    log(`  token (with resource): ${zt.status} ${zt.headers.get('content-type')} ${redact(zt.text)}`);
    check(zt.status === 200 && zt.json?.access_token && zt.json?.refresh_token && zt.json?.scope === 'api:read'
      && zt.json?.token_type === 'Bearer' && !zt.json?.id_token, 'token 200: access + refresh token, scope api:read');
    const zme = await getMe(issuer, zt.json?.access_token);
    log(`  GET /api/me: ${zme.status} ${zme.text}`);
    check(zme.status === 200 && JSON.parse(zme.text).sub === 'alice' && JSON.parse(zme.text).client_id === zClientId,
      '/api/me 200 alice (registered client)');
    const zi = await post(introspection, { token: zt.json?.access_token, client_id: zClientId });
    log(`  introspection by the client itself: ${zi.status} ${zi.text}`);
    check(zi.json?.active === true && zi.json?.aud === resource && zi.json?.client_id === zClientId, `introspection: aud ${resource}`);
    const zir = await post(introspection, { token: zt.json?.refresh_token, client_id: zClientId });
    log(`  its refresh token: ${zir.status} ${zir.text}`);

    const zr1 = await post(zTokenEndpoint, {
      grant_type: 'refresh_token', refresh_token: zt.json?.refresh_token, client_id: zClientId, resource,
    });
    log(`  refresh (with resource): ${zr1.status} ${redact(zr1.text)}`);
    check(zr1.status === 200 && zr1.json?.refresh_token && zr1.json.refresh_token !== zt.json?.refresh_token
      && zr1.json?.scope === 'api:read', 'refresh 200, rotated refresh token');
    const zme1 = await getMe(issuer, zr1.json?.access_token);
    const zi1 = await post(introspection, { token: zr1.json?.access_token, client_id: zClientId });
    log(`  /api/me: ${zme1.status} ${zme1.text}; introspection aud: ${zi1.json?.aud}`);
    check(zme1.status === 200 && zi1.json?.aud === resource, '/api/me 200 with the refreshed token (aud kept)');
    const zr2 = await post(zTokenEndpoint, {
      grant_type: 'refresh_token', refresh_token: zr1.json?.refresh_token, client_id: zClientId,
    });
    const zi2 = await post(introspection, { token: zr2.json?.access_token, client_id: zClientId });
    log(`  refresh WITHOUT resource (no openid): ${zr2.status} ${redact(zr2.text)}; introspection aud: ${zi2.json?.aud}`);
    check(zr2.status === 200 && zi2.json?.aud === resource, 'refresh without resource: the granted resource is used (aud kept)');
    const zr3 = await post(zTokenEndpoint, {
      grant_type: 'refresh_token', refresh_token: zr1.json?.refresh_token, client_id: zClientId, resource,
    });
    const zme3 = await getMe(issuer, zr2.json?.access_token);
    log(`  replay the rotated-out refresh token: ${zr3.status} ${zr3.text}; newest access token at /api/me: ${zme3.status}`);
    check(zr3.status === 400 && zr3.json?.error === 'invalid_grant' && zme3.status === 401,
      'reuse detection applies to registered clients (grant revoked)');

    log('\n[21b] zero-configuration with "openid offline_access api:read"');
    const zo = await zAuthorize('openid offline_access api:read');
    const zot = await post(zTokenEndpoint, {
      grant_type: 'authorization_code',
      code: zo.callback?.searchParams.get('code'),
      code_verifier: zo.verifier,
      client_id: zClientId,
      redirect_uri: zo.redirectUri,
      resource,
    });
    const zoi = await post(introspection, { token: zot.json?.access_token, client_id: zClientId });
    log(`  token (with resource): ${zot.status} ${redact(zot.text)}; introspection: ${zoi.text}`);
    check(zot.status === 200 && zot.json?.id_token && zot.json?.refresh_token && zot.json?.scope === 'api:read' && zoi.json?.aud === resource,
      'openid + resource: id_token, refresh token, access token scope api:read with aud');
    const zome = await getMe(issuer, zot.json?.access_token);
    log(`  /api/me: ${zome.status} ${zome.text}`);
    check(zome.status === 200, '/api/me 200');
    const zor1 = await post(zTokenEndpoint, {
      grant_type: 'refresh_token', refresh_token: zot.json?.refresh_token, client_id: zClientId, resource,
    });
    const zor1i = await post(introspection, { token: zor1.json?.access_token, client_id: zClientId });
    log(`  refresh with resource: ${zor1.status} ${redact(zor1.text)}; aud ${zor1i.json?.aud}`);
    check(zor1.status === 200 && zor1.json?.refresh_token !== zot.json?.refresh_token && zor1i.json?.aud === resource,
      'refresh with resource: rotated, aud kept');
    const zor2 = await post(zTokenEndpoint, {
      grant_type: 'refresh_token', refresh_token: zor1.json?.refresh_token, client_id: zClientId,
    });
    const zor2i = await post(introspection, { token: zor2.json?.access_token, client_id: zClientId });
    const zor2me = await getMe(issuer, zor2.json?.access_token);
    log(`  refresh WITHOUT resource: ${zor2.status} ${redact(zor2.text)}; introspection: ${zor2i.text}; /api/me ${zor2me.status} ${zor2me.text}`);
    check(zor2.status === 200 && zor2i.json?.active === true && !('aud' in zor2i.json),
      'with openid, refresh without resource: access token WITHOUT aud (userinfo-style, still accepted by /api/me)');
    const zor3 = await post(zTokenEndpoint, {
      grant_type: 'refresh_token', refresh_token: zor2.json?.refresh_token, client_id: zClientId, resource: 'https://api.example',
    });
    log(`  refresh with a resource that was not granted (https://api.example): ${zor3.status} ${zor3.text}`);
    check(zor3.status === 400 && zor3.json?.error === 'invalid_target', 'ungranted resource on refresh: 400 invalid_target');
    const zor4 = await post(zTokenEndpoint, {
      grant_type: 'refresh_token', refresh_token: zor2.json?.refresh_token, client_id: zClientId, resource,
    });
    log(`  the same refresh token again, right resource: ${zor4.status} ${zor4.text}`);
    check(zor4.status === 400 && zor4.json?.error === 'invalid_grant',
      'the invalid_target refresh consumed the refresh token (retry is reuse: invalid_grant, grant revoked)');

    log('\n[21c] resource indicator errors and audiences');
    const zSlash = await zAuthorize('api:read', { resource: `${resource}/` });
    log(`  resource "${resource}/" (trailing slash): ${zSlash.br.stdout.trim()}`);
    check(zSlash.callback?.searchParams.get('error') === 'invalid_target', 'only the exact identifier is known: error=invalid_target');
    const zNoRes = await zAuthorize('api:read', {});
    const zNoResT = await post(zTokenEndpoint, {
      grant_type: 'authorization_code',
      code: zNoRes.callback?.searchParams.get('code'),
      code_verifier: zNoRes.verifier,
      client_id: zClientId,
      redirect_uri: zNoRes.redirectUri,
      resource,
    });
    log(`  resource only at /token: ${zNoResT.status} ${zNoResT.text}`);
    check(zNoResT.status === 400 && zNoResT.json?.error === 'invalid_target', 'resource at /token but not at /auth: 400 invalid_target');
    const zAuthOnly = await zAuthorize('api:read');
    const zAuthOnlyT = await post(zTokenEndpoint, {
      grant_type: 'authorization_code',
      code: zAuthOnly.callback?.searchParams.get('code'),
      code_verifier: zAuthOnly.verifier,
      client_id: zClientId,
      redirect_uri: zAuthOnly.redirectUri,
    });
    const zAuthOnlyI = await post(introspection, { token: zAuthOnlyT.json?.access_token, client_id: zClientId });
    log(`  resource only at /auth (scope api:read): ${zAuthOnlyT.status} ${redact(zAuthOnlyT.text)}; aud ${zAuthOnlyI.json?.aud}`);
    check(zAuthOnlyT.status === 200 && zAuthOnlyI.json?.aud === resource, 'resource only at /auth, no openid: token bound to the resource anyway');
    const zRev = await post(revocation, { token: zAuthOnlyT.json?.access_token, client_id: zClientId });
    const zRevMe = await getMe(issuer, zAuthOnlyT.json?.access_token);
    log(`  the registered client revokes its access token: ${zRev.status} ${JSON.stringify(zRev.text)}; /api/me afterwards: ${zRevMe.status}`);
    check(zRev.status === 200 && zRevMe.status === 401, 'registered public client may revoke its own token');
    const ccApi = await post(token, { grant_type: 'client_credentials', scope: 'api:read', resource }, sauth);
    const ccApiMe = await getMe(issuer, ccApi.json?.access_token);
    log(`  client_credentials with resource=${resource}: ${ccApi.status} ${redact(ccApi.text)}; /api/me ${ccApiMe.status} ${ccApiMe.text}`);
    check(ccApi.status === 200 && ccApiMe.status === 200, 'client_credentials token for <issuer>/api works at /api/me');
    const ccEx = await post(token, { grant_type: 'client_credentials', scope: 'api:read', resource: 'https://api.example' }, sauth);
    const ccExMe = await getMe(issuer, ccEx.json?.access_token);
    log(`  token for https://api.example at /api/me: ${ccExMe.status} WWW-Authenticate: ${ccExMe.www}`);
    check(ccExMe.status === 401 && authParam(ccExMe.www, 'error') === 'invalid_token', 'token with another audience: 401 invalid_token');
  } finally {
    server.child.kill('SIGTERM');
    const code = await new Promise((r) => server.child.on('exit', (c, s) => r(c ?? s)));
    log(`\nserver exit on SIGTERM: ${code}; server stdout was ${JSON.stringify(server.stdout())}`);
    check(code === 0, 'server exits 0 on SIGTERM');
  }

  log('\n[22] device code expiry (second server, DEVICE_CODE_TTL=1)');
  const short = await startServer({ DEVICE_CODE_TTL: '1' });
  try {
    const de = await deviceAuthorize(short.issuer, { client_id: 'public-native', scope: 'api:read' });
    log(`  ${de.status} ${redact(de.text)}`);
    await new Promise((r) => setTimeout(r, 1500));
    const pe = await devicePoll(short.issuer, de.json.device_code);
    log(`  poll after expiry: ${pe.status} ${pe.text}`);
    check(pe.status === 400 && pe.json?.error === 'expired_token', 'expired device code: 400 expired_token');
    const ae = await approveRoute(short.issuer, { user_code: de.json.user_code });
    log(`  approve after expiry: ${ae.status} ${ae.json?.error}: ${ae.json?.error_description}`);
    check(ae.status === 410 && ae.json?.error === 'expired_user_code', 'approve route: 410 expired_user_code');
    const be = await runDevice([de.json.verification_uri_complete]);
    log(`  headless-browser --device: exit ${be.code}; stderr: ${be.stderr.trim().split('\n')[0]}`);
    check(be.code === 1, 'headless-browser --device on an expired code: exit 1');
  } finally {
    const code = await stopServer(short);
    check(code === 0, 'second server exits 0');
  }

  log(failures ? `\n${failures} check(s) FAILED` : '\nall checks passed');
  process.exit(failures ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`smoke: ${err?.stack ?? err}\n`);
  process.exit(1);
});
