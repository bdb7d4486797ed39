// oidc-provider 9.x test peer for the Rust OAuth 2.0 client interop tests.
//
// Usage: PORT=0 node server.js
// Prints exactly one line to stdout once listening:  READY http://127.0.0.1:<port>
// Everything else (oidc-provider notices/warnings, errors) goes to stderr.
// Runs until SIGTERM/SIGINT.
//
// Besides oidc-provider's endpoints: /interaction/:uid (headless login and
// consent as alice), /api/me (bearer-protected test resource),
// /.well-known/oauth-protected-resource/api (its RFC 9728 metadata) and
// /__test/device/approve (headless device user-code confirmation).
// Dynamic client registration (RFC 7591) is open at /reg.
// Optional env: ACCESS_TOKEN_TTL, DEVICE_CODE_TTL (seconds). See README.md.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import { BrowserError, completeDeviceFlow } from './browser-lib.js';

// oidc-provider prints "NOTICE" lines with console.info (i.e. stdout), both at
// import time and lazily at runtime. stdout is reserved for the READY line, so
// send every console.log/info to stderr. This must happen before oidc-provider
// is evaluated, hence the dynamic import below.
console.log = console.error;
console.info = console.error;

const { default: Provider, errors: oidcErrors } = await import('oidc-provider');

const HOST = '127.0.0.1';
const REQUESTED_PORT = parsePort(process.env.PORT ?? '0');
const ACCESS_TOKEN_TTL = parsePositiveInt('ACCESS_TOKEN_TTL', process.env.ACCESS_TOKEN_TTL ?? '3600');
const DEVICE_CODE_TTL = parsePositiveInt('DEVICE_CODE_TTL', process.env.DEVICE_CODE_TTL ?? '600');

const ACCOUNT_ID = 'alice';
const SCOPES = ['openid', 'offline_access', 'api:read', 'api:write'];
const REDIRECT_URIS = ['http://127.0.0.1/callback'];
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
// Resource servers known to resource indicators (RFC 8707): the fictitious
// https://api.example, and our own /api (identifier <issuer>/api, see
// localApiResource), which has RFC 9728 metadata.
const API_RESOURCE = 'https://api.example';
const API_RESOURCE_SCOPES = 'api:read api:write';
const LOCAL_API_PATH = '/api';
const LOCAL_API_SCOPES = ['api:read'];
// RFC 9728 §3.1: /.well-known/oauth-protected-resource inserted before the path.
const RESOURCE_METADATA_PATH = `/.well-known/oauth-protected-resource${LOCAL_API_PATH}`;
const COMMON_CLIENT = {
  application_type: 'native',
  redirect_uris: REDIRECT_URIS,
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};
const CLIENTS = [
  {
    ...COMMON_CLIENT,
    client_id: 'public-native',
    token_endpoint_auth_method: 'none',
    grant_types: [...COMMON_CLIENT.grant_types, DEVICE_CODE_GRANT],
  },
  {
    ...COMMON_CLIENT,
    client_id: 'confidential-basic',
    client_secret: 'interop-secret-with-special-chars:+/=%',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [...COMMON_CLIENT.grant_types, DEVICE_CODE_GRANT],
  },
  {
    ...COMMON_CLIENT,
    client_id: 'confidential-post',
    client_secret: 'interop-post-secret',
    token_endpoint_auth_method: 'client_secret_post',
  },
  {
    ...COMMON_CLIENT,
    client_id: 'par-required',
    client_secret: 'par-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    require_pushed_authorization_requests: true,
  },
  {
    client_id: 'service',
    client_secret: 'service-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  },
];

function parsePort(value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    fatal(`invalid PORT ${JSON.stringify(value)}`);
  }
  return n;
}

function parsePositiveInt(name, value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    fatal(`invalid ${name} ${JSON.stringify(value)}`);
  }
  return n;
}

function fatal(message) {
  process.stderr.write(`server.js: ${message}\n`);
  process.exit(1);
}

function generateSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    ...privateKey.export({ format: 'jwk' }),
    kid: crypto.randomUUID(),
    use: 'sig',
    alg: 'RS256',
  };
}

// The resource identifier of /api/... (RFC 8707 / RFC 9728): <issuer>/api.
function localApiResource(issuer) {
  return `${issuer}${LOCAL_API_PATH}`;
}

function resourceMetadataUrl(issuer) {
  return `${issuer}${RESOURCE_METADATA_PATH}`;
}

function buildConfiguration(issuer) {
  const localResource = localApiResource(issuer);
  return {
    clients: CLIENTS,
    jwks: { keys: [generateSigningKey()] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },

    scopes: SCOPES,
    claims: { openid: ['sub'] },
    // Extra authorization request parameter steering the headless "user".
    extraParams: ['test_decision'],

    features: {
      devInteractions: { enabled: false },
      // RFC 7009. Same policy as oidc-provider's default, spelled out: a
      // client may revoke only its own tokens; for a public client another
      // client's token is silently ignored (200), a confidential client gets
      // 400 invalid_request.
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId === client.clientId) return true;
          if (client.clientAuthMethod === 'none') return false;
          throw new oidcErrors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      // RFC 7662. Same policy as oidc-provider's default, spelled out: a
      // public client sees only its own tokens as active; confidential clients
      // may introspect any client's token.
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) => !(
          client.clientAuthMethod === 'none' && token.clientId !== ctx.oidc.client.clientId
        ),
      },
      // RFC 8628. The user-facing pages at /device are oidc-provider's flow
      // with our own (machine-readable) page sources, see devicePage().
      deviceFlow: {
        enabled: true,
        userCodeInputSource: deviceInputSource,
        userCodeConfirmSource: deviceConfirmSource,
        successSource: deviceSuccessSource,
      },
      // RFC 9126 (on by default in 9.x; explicit here). Not required globally,
      // only for clients registered with require_pushed_authorization_requests.
      pushedAuthorizationRequests: {
        enabled: true,
        requirePushedAuthorizationRequests: false,
      },
      clientCredentials: { enabled: true },
      // RFC 7591, open: no initial access token. POST /reg (JSON) answers 201
      // with the client's metadata, a registration_access_token and a
      // registration_client_uri (GET /reg/:clientId reads the record; update
      // and delete, i.e. registrationManagement, stay disabled). The client
      // lives in memory like everything else; the global policies below
      // (PKCE, rotateRefreshToken, issueRefreshToken) apply to it too.
      registration: {
        enabled: true,
        initialAccessToken: false,
      },
      // RFC 8707 (on by default). Known resources: https://api.example and
      // <issuer>/api (our /api/me); both get opaque access tokens (so that
      // /api/me and introspection can look them up) with the resource as `aud`.
      // A request without `resource` gets a token without audience, as before.
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => false,
        getResourceServerInfo: async (_ctx, resourceIndicator) => {
          if (resourceIndicator === API_RESOURCE) {
            return {
              scope: API_RESOURCE_SCOPES,
              audience: API_RESOURCE,
              accessTokenFormat: 'opaque',
              accessTokenTTL: ACCESS_TOKEN_TTL,
            };
          }
          if (resourceIndicator === localResource) {
            return {
              scope: LOCAL_API_SCOPES.join(' '),
              audience: localResource,
              accessTokenFormat: 'opaque',
              accessTokenTTL: ACCESS_TOKEN_TTL,
            };
          }
          throw new oidcErrors.InvalidTarget();
        },
      },
    },

    // PKCE for every client. oidc-provider 9.x only implements S256 (the
    // former `pkce.methods` option no longer exists; "plain" is always rejected).
    pkce: { required: () => true },

    // Always rotate: replaying a rotated-out refresh token triggers reuse
    // detection, which revokes the whole grant.
    rotateRefreshToken: () => true,
    // Issue a refresh token whenever the client may use the refresh_token
    // grant (the default additionally requires the offline_access scope).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Do not tie tokens to the (browser) session lifetime: the headless
    // browser's session is throw-away, the tokens are what the tests care about.
    expiresWithSession: async () => false,

    ttl: {
      AccessToken: () => ACCESS_TOKEN_TTL,
      AuthorizationCode: 60,
      ClientCredentials: () => ACCESS_TOKEN_TTL,
      DeviceCode: () => DEVICE_CODE_TTL,
      Grant: 14 * 24 * 60 * 60,
      IdToken: 60 * 60,
      Interaction: 60 * 60,
      RefreshToken: 14 * 24 * 60 * 60,
      Session: 14 * 24 * 60 * 60,
    },

    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },

    findAccount: async (_ctx, id) => {
      if (id !== ACCOUNT_ID) return undefined;
      return {
        accountId: id,
        claims: async () => ({ sub: id }),
      };
    },

    renderError: async (ctx, out) => {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = Object.entries(out).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n';
    },
  };
}

// ---------------------------------------------------------------------------
// Device flow pages (features.deviceFlow.*Source)
//
// oidc-provider renders the forms (with their xsrf secret); these only wrap
// them. Every page carries <meta name="interop-device-page" content="...">
// (input | confirm | success) so that headless-browser.js can tell them apart
// without guessing from the text; error pages add interop-device-error (the
// oidc-provider error class, e.g. NotFoundError, ExpiredError,
// AlreadyUsedError, AbortedError) and, when there is one, the OAuth error.

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

function devicePage(ctx, page, title, content, meta = {}) {
  const metas = Object.entries({ 'interop-device-page': page, ...meta })
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<meta name="${escapeHtml(k)}" content="${escapeHtml(v)}">`)
    .join('\n  ');
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  ${metas}
  <title>${escapeHtml(title)}</title>
</head>
<body>
  <h1>${escapeHtml(title)}</h1>
${content}
</body>
</html>
`;
}

async function deviceInputSource(ctx, form, out, err) {
  let message = 'Enter the code displayed on your device.';
  if (err) message = `${err.name}: ${err.message}`;
  devicePage(ctx, 'input', 'Sign-in', `  <p>${escapeHtml(message)}</p>
  ${form}
  <button type="submit" form="op.deviceInputForm">Continue</button>`, {
    'interop-device-error': err?.name,
    'interop-device-oauth-error': out?.error,
    'interop-device-oauth-error-description': out?.error_description,
  });
}

async function deviceConfirmSource(ctx, form, client, _deviceInfo, userCode) {
  devicePage(ctx, 'confirm', 'Confirm Device', `  <p>${escapeHtml(client.clientName || client.clientId)} wants access.
  The device should display <code>${escapeHtml(userCode)}</code>.</p>
  ${form}
  <button type="submit" form="op.deviceConfirmForm">Continue</button>
  <button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">[ Abort ]</button>`, {
    'interop-device-client': client.clientId,
    'interop-device-user-code': userCode,
  });
}

async function deviceSuccessSource(ctx) {
  devicePage(ctx, 'success', 'Sign-in Success', '  <p>You can now close this page.</p>', {
    'interop-device-client': ctx.oidc.client?.clientId,
  });
}

// ---------------------------------------------------------------------------
// HTTP helpers

function sendJson(res, status, body, headers = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

function sendText(res, status, text) {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

// ---------------------------------------------------------------------------
// GET /.well-known/oauth-protected-resource/api : RFC 9728 metadata of /api

function handleResourceMetadata(issuer, req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendText(res, 405, 'method not allowed\n');
    return;
  }
  sendJson(res, 200, {
    resource: localApiResource(issuer),
    authorization_servers: [issuer],
    scopes_supported: LOCAL_API_SCOPES,
    bearer_methods_supported: ['header'],
  });
}

// ---------------------------------------------------------------------------
// GET /api/me : protected resource accepting Bearer access tokens (RFC 6750)

// RFC 6750 §3 challenge plus RFC 9728 §5.1 resource_metadata.
function bearerChallenge(issuer, error, description) {
  let value = `Bearer realm="interop", resource_metadata="${resourceMetadataUrl(issuer)}"`;
  if (error) {
    value += `, error="${error}"`;
    if (description) value += `, error_description="${description.replace(/["\\]/g, '')}"`;
  }
  return value;
}

function unauthorized(issuer, res, error, description) {
  const body = error ? { error, error_description: description } : { error_description: description };
  sendJson(res, 401, body, { 'www-authenticate': bearerChallenge(issuer, error, description) });
}

async function handleApiMe(provider, issuer, req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendText(res, 405, 'method not allowed\n');
    return;
  }

  const header = req.headers.authorization;
  if (header === undefined) {
    unauthorized(issuer, res, undefined, 'no access token presented');
    return;
  }

  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match) {
    // Not a (well-formed) Bearer credential.
    unauthorized(issuer, res, 'invalid_token', 'malformed Bearer Authorization header');
    return;
  }

  // User tokens (authorization code, refresh, device code) are AccessTokens;
  // client_credentials tokens are a separate model in oidc-provider.
  const token = await provider.AccessToken.find(match[1])
    ?? await provider.ClientCredentials.find(match[1]);
  if (!token) {
    // find() returns undefined for unknown, revoked and expired tokens.
    unauthorized(issuer, res, 'invalid_token', 'access token is invalid, expired or revoked');
    return;
  }
  if (token.isExpired) {
    unauthorized(issuer, res, 'invalid_token', 'access token expired');
    return;
  }
  if (token.jkt || token['x5t#S256']) {
    unauthorized(issuer, res, 'invalid_token', 'sender-constrained access token presented as Bearer');
    return;
  }
  // RFC 8707: a token without audience (no `resource` was requested) is
  // accepted as before; a resource-bound one only if it is bound to us.
  const audiences = token.aud === undefined ? [] : [token.aud].flat();
  if (audiences.length > 0 && !audiences.includes(localApiResource(issuer))) {
    unauthorized(issuer, res, 'invalid_token', 'access token audience is not this resource');
    return;
  }

  if (token.kind === 'ClientCredentials') {
    // No user: the subject is the client itself (as in RFC 9068 §2.2).
    sendJson(res, 200, { sub: token.clientId, scope: token.scope ?? '', client_id: token.clientId });
    return;
  }

  const grant = await provider.Grant.find(token.grantId, { ignoreExpiration: true });
  if (!grant || grant.isExpired || grant.clientId !== token.clientId || grant.accountId !== token.accountId) {
    unauthorized(issuer, res, 'invalid_token', 'grant of the access token is no longer valid');
    return;
  }

  sendJson(res, 200, { sub: token.accountId, scope: token.scope, client_id: token.clientId });
}

// ---------------------------------------------------------------------------
// GET /interaction/:uid : headless login + consent for account alice

async function handleInteraction(provider, req, res) {
  if (req.method !== 'GET') {
    res.setHeader('allow', 'GET');
    sendText(res, 405, 'method not allowed\n');
    return;
  }

  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    process.stderr.write(`interaction lookup failed: ${err?.stack ?? err}\n`);
    sendText(res, 400, `interaction not found or expired: ${err?.message ?? err}\n`);
    return;
  }

  const { prompt, params, session } = details;

  if (params.test_decision === 'deny') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'The user denied the request',
    }, { mergeWithLastSubmission: false });
    return;
  }

  switch (prompt.name) {
    case 'login': {
      await provider.interactionFinished(req, res, {
        login: { accountId: ACCOUNT_ID },
      }, { mergeWithLastSubmission: false });
      return;
    }
    case 'consent': {
      const accountId = session?.accountId;
      if (!accountId) {
        sendText(res, 400, 'consent prompt without a logged-in session\n');
        return;
      }

      let grant;
      if (details.grantId) {
        grant = await provider.Grant.find(details.grantId);
      }
      if (!grant) {
        grant = new provider.Grant({ accountId, clientId: params.client_id });
      }

      const {
        missingOIDCScope, missingOIDCClaims, missingResourceScopes,
      } = prompt.details;
      if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
      if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
      if (missingResourceScopes) {
        for (const [indicator, scopes] of Object.entries(missingResourceScopes)) {
          grant.addResourceScope(indicator, scopes.join(' '));
        }
      }
      const grantId = await grant.save();

      await provider.interactionFinished(req, res, {
        consent: { grantId },
      }, { mergeWithLastSubmission: true });
      return;
    }
    default:
      sendText(res, 400, `unsupported interaction prompt: ${prompt.name}\n`);
  }
}

// ---------------------------------------------------------------------------
// POST|GET /__test/device/approve : headless user-code confirmation
//
// Parameters (form body and/or query): user_code (required, as shown to the
// user, e.g. "BCDF-GHJK"; case and dashes are normalized by oidc-provider),
// decision=approve|deny (default approve). Drives the real /device pages over
// loopback HTTP exactly like `node headless-browser.js --device` does, as
// user alice, granting every requested scope.

const DEVICE_ERROR_STATUS = {
  NotFoundError: [404, 'unknown_user_code'],
  ExpiredError: [410, 'expired_user_code'],
  AlreadyUsedError: [409, 'user_code_already_used'],
  NoCodeError: [400, 'invalid_request'],
};

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function handleDeviceApprove(issuer, req, res) {
  if (req.method !== 'GET' && req.method !== 'POST') {
    res.setHeader('allow', 'GET, POST');
    sendText(res, 405, 'method not allowed\n');
    return;
  }
  const params = new URL(req.url, issuer).searchParams;
  if (req.method === 'POST') {
    const type = req.headers['content-type'] ?? '';
    const body = await readForm(req);
    if (body.size > 0 && !/^application\/x-www-form-urlencoded\b/i.test(type)) {
      sendJson(res, 400, { error: 'invalid_request', error_description: 'body must be application/x-www-form-urlencoded' });
      return;
    }
    for (const [k, v] of body) params.append(k, v);
  }
  const userCodes = params.getAll('user_code');
  const decisions = params.getAll('decision');
  const decision = decisions[0] ?? 'approve';
  if (userCodes.length !== 1 || !userCodes[0]) {
    sendJson(res, 400, { error: 'invalid_request', error_description: 'exactly one non-empty user_code is required' });
    return;
  }
  if (decisions.length > 1 || (decision !== 'approve' && decision !== 'deny')) {
    sendJson(res, 400, { error: 'invalid_request', error_description: 'decision must be approve or deny' });
    return;
  }

  const userCode = userCodes[0];
  const url = new URL('/device', issuer);
  url.searchParams.set('user_code', userCode);
  try {
    const { outcome } = await completeDeviceFlow(url.href, {
      deny: decision === 'deny', timeoutMs: 15_000, userAgent: 'interop-device-approve/1',
    });
    const expected = decision === 'deny' ? 'denied' : 'approved';
    if (outcome !== expected) {
      sendJson(res, 409, {
        error: 'unexpected_outcome', error_description: `device flow ended ${outcome}`, user_code: userCode, decision, outcome,
      });
      return;
    }
    sendJson(res, 200, { user_code: userCode, decision, outcome });
  } catch (err) {
    if (!(err instanceof BrowserError)) throw err;
    const [status, error] = DEVICE_ERROR_STATUS[err.errorName] ?? [502, 'device_flow_failed'];
    sendJson(res, status, {
      error,
      error_description: err.message,
      user_code: userCode,
      decision,
      device_error: err.errorName,
      steps: err.trace,
    });
  }
}

// ---------------------------------------------------------------------------
// Server

let provider;
let providerCallback;
let issuerUrl;

const server = http.createServer(async (req, res) => {
  try {
    if (!providerCallback) {
      sendText(res, 503, 'starting\n');
      return;
    }

    const { pathname } = new URL(req.url, 'http://127.0.0.1');
    if (pathname === '/api/me') {
      await handleApiMe(provider, issuerUrl, req, res);
      return;
    }
    if (pathname === RESOURCE_METADATA_PATH) {
      handleResourceMetadata(issuerUrl, req, res);
      return;
    }
    if (/^\/interaction\/[^/]+$/.test(pathname)) {
      await handleInteraction(provider, req, res);
      return;
    }
    if (pathname === '/__test/device/approve') {
      await handleDeviceApprove(issuerUrl, req, res);
      return;
    }

    providerCallback(req, res);
  } catch (err) {
    process.stderr.write(`request ${req.method} ${req.url} failed: ${err?.stack ?? err}\n`);
    if (!res.headersSent) {
      sendText(res, 500, 'internal server error\n');
    } else {
      res.destroy();
    }
  }
});

server.on('error', (err) => fatal(`HTTP server error: ${err?.stack ?? err}`));

server.listen(REQUESTED_PORT, HOST, () => {
  const { port } = server.address();
  const issuer = `http://${HOST}:${port}`;
  issuerUrl = issuer;

  try {
    provider = new Provider(issuer, buildConfiguration(issuer));
  } catch (err) {
    fatal(`failed to configure oidc-provider: ${err?.stack ?? err}`);
  }
  provider.on('server_error', (_ctx, err) => {
    process.stderr.write(`oidc-provider server_error: ${err?.stack ?? err}\n`);
  });
  providerCallback = provider.callback();

  process.stdout.write(`READY ${issuer}\n`);
});

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`server.js: received ${signal}, shutting down\n`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
