// oidc-provider 9.x test peer for the Rust OAuth 2.0 client interop tests.
//
// Usage: PORT=0 node server.js
// Prints exactly one line to stdout once listening:  READY http://127.0.0.1:<port>
// Everything else (oidc-provider notices/warnings, errors) goes to stderr.
// Runs until SIGTERM/SIGINT.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

// oidc-provider prints "NOTICE" lines with console.info (i.e. stdout), both at
// import time and lazily at runtime. stdout is reserved for the READY line, so
// send every console.log/info to stderr. This must happen before oidc-provider
// is evaluated, hence the dynamic import below.
console.log = console.error;
console.info = console.error;

const { default: Provider } = await import('oidc-provider');

const HOST = '127.0.0.1';
const REQUESTED_PORT = parsePort(process.env.PORT ?? '0');
const ACCESS_TOKEN_TTL = parsePositiveInt('ACCESS_TOKEN_TTL', process.env.ACCESS_TOKEN_TTL ?? '3600');

const ACCOUNT_ID = 'alice';
const SCOPES = ['openid', 'offline_access', 'api:read', 'api:write'];
const REDIRECT_URIS = ['http://127.0.0.1/callback'];
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
  },
  {
    ...COMMON_CLIENT,
    client_id: 'confidential-basic',
    client_secret: 'interop-secret-with-special-chars:+/=%',
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    ...COMMON_CLIENT,
    client_id: 'confidential-post',
    client_secret: 'interop-post-secret',
    token_endpoint_auth_method: 'client_secret_post',
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

function buildConfiguration() {
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
      revocation: { enabled: true },
      introspection: { enabled: true },
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
// GET /api/me : protected resource accepting Bearer access tokens (RFC 6750)

function bearerChallenge(error, description) {
  let value = 'Bearer realm="interop"';
  if (error) {
    value += `, error="${error}"`;
    if (description) value += `, error_description="${description.replace(/["\\]/g, '')}"`;
  }
  return value;
}

function unauthorized(res, error, description) {
  const body = error ? { error, error_description: description } : { error_description: description };
  sendJson(res, 401, body, { 'www-authenticate': bearerChallenge(error, description) });
}

async function handleApiMe(provider, req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendText(res, 405, 'method not allowed\n');
    return;
  }

  const header = req.headers.authorization;
  if (header === undefined) {
    unauthorized(res, undefined, 'no access token presented');
    return;
  }

  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match) {
    // Not a (well-formed) Bearer credential.
    unauthorized(res, 'invalid_token', 'malformed Bearer Authorization header');
    return;
  }

  const token = await provider.AccessToken.find(match[1]);
  if (!token) {
    // find() returns undefined for unknown, revoked and expired tokens.
    unauthorized(res, 'invalid_token', 'access token is invalid, expired or revoked');
    return;
  }
  if (token.isExpired) {
    unauthorized(res, 'invalid_token', 'access token expired');
    return;
  }
  if (token.jkt || token['x5t#S256']) {
    unauthorized(res, 'invalid_token', 'sender-constrained access token presented as Bearer');
    return;
  }

  const grant = await provider.Grant.find(token.grantId, { ignoreExpiration: true });
  if (!grant || grant.isExpired || grant.clientId !== token.clientId || grant.accountId !== token.accountId) {
    unauthorized(res, 'invalid_token', 'grant of the access token is no longer valid');
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
// Server

let provider;
let providerCallback;

const server = http.createServer(async (req, res) => {
  try {
    if (!providerCallback) {
      sendText(res, 503, 'starting\n');
      return;
    }

    const { pathname } = new URL(req.url, 'http://127.0.0.1');
    if (pathname === '/api/me') {
      await handleApiMe(provider, req, res);
      return;
    }
    if (/^\/interaction\/[^/]+$/.test(pathname)) {
      await handleInteraction(provider, req, res);
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

  try {
    provider = new Provider(issuer, buildConfiguration());
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
