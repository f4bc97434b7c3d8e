// A local OpenID provider with the device flow, shaped like Auth0, for tests and the local demo.
//
// Built on npm `oidc-provider` (a certified OpenID Provider). Start it with
//
//     OIDC_PORT=4010 OIDC_TEST_ROUTES=1 node tests/support/oidc/provider.mjs
//
// and it prints one line `READY <issuer>` on stdout once it listens. Stop it with SIGTERM or SIGINT.
//
// Environment (all optional except that OIDC_PORT defaults to 3000):
//   OIDC_PORT, OIDC_HOST (127.0.0.1), OIDC_ISSUER (http://<host>:<port>/, with Auth0's trailing slash),
//   OIDC_CLIENT_ID (login-feed-desktop), OIDC_AUDIENCE (https://login-feed.example.com/api),
//   OIDC_PERMISSIONS (space-separated, "read:login-feed"; the `permissions` claim of every access token),
//   OIDC_ACCESS_TOKEN_TTL (3600), OIDC_DEVICE_CODE_TTL (600), OIDC_ID_TOKEN_TTL (3600),
//   OIDC_REFRESH_TOKEN_TTL (2592000 = 30 days, as Auth0's rotating refresh tokens),
//   OIDC_INTERVAL (5): the polling interval advertised and enforced,
//   OIDC_INTERVAL_TOLERANCE (min(1, interval / 2) seconds): how much earlier than `interval` a poll may come,
//   OIDC_AUTH0_COMPAT (1): Auth0's statuses and shapes (see auth0Compat below); 0 = plain oidc-provider,
//   OIDC_ENFORCE_INTERVAL (1): answer `slow_down` to a client that polls a pending code too fast,
//   OIDC_TEST_ROUTES (0): serve the /__test/ routes (approve, deny, expire, health).
//
// Auth0-like routes: POST /oauth/device/code, POST /oauth/token, GET|POST /userinfo, POST /oauth/revoke,
// GET /.well-known/jwks.json, GET /.well-known/openid-configuration. The end-user verification page is
// oidc-provider's own (`/device`, with its development-only login and consent pages: any login name works).

import * as crypto from 'node:crypto';
import * as http from 'node:http';

// oidc-provider warns "Unsupported runtime" on Node < 22 when it is imported; it works on Node 20.
const consoleWarn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
  consoleWarn(...args);
};
const { default: Provider, errors } = await import('oidc-provider');
const { createMemoryAdapter } = await import('oidc-provider/lib/adapters/memory_adapter.js');
console.warn = consoleWarn;

// ---------------------------------------------------------------------------------------------- settings

const env = process.env;

function intEnv(name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function flagEnv(name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(raw.toLowerCase());
}

const PORT = intEnv('OIDC_PORT', 3000);
const HOST = env.OIDC_HOST || '127.0.0.1';
const ISSUER_HOST = HOST === '0.0.0.0' || HOST === '::' ? '127.0.0.1' : HOST;
const ISSUER = env.OIDC_ISSUER || `http://${ISSUER_HOST}:${PORT}/`;
const CLIENT_ID = env.OIDC_CLIENT_ID || 'login-feed-desktop';
const AUDIENCE = env.OIDC_AUDIENCE || 'https://login-feed.example.com/api';
const PERMISSIONS = (env.OIDC_PERMISSIONS ?? 'read:login-feed').split(/\s+/).filter(Boolean);
const ACCESS_TOKEN_TTL = intEnv('OIDC_ACCESS_TOKEN_TTL', 3600);
const DEVICE_CODE_TTL = intEnv('OIDC_DEVICE_CODE_TTL', 600);
const ID_TOKEN_TTL = intEnv('OIDC_ID_TOKEN_TTL', 3600);
const REFRESH_TOKEN_TTL = intEnv('OIDC_REFRESH_TOKEN_TTL', 30 * 24 * 3600);
const INTERVAL = intEnv('OIDC_INTERVAL', 5);
const INTERVAL_TOLERANCE = intEnv('OIDC_INTERVAL_TOLERANCE', Math.min(1, INTERVAL / 2));
const AUTH0_COMPAT = flagEnv('OIDC_AUTH0_COMPAT', true);
const ENFORCE_INTERVAL = flagEnv('OIDC_ENFORCE_INTERVAL', true);
const TEST_ROUTES = flagEnv('OIDC_TEST_ROUTES', false);

const ROUTES = {
  device_authorization: '/oauth/device/code',
  token: '/oauth/token',
  userinfo: '/userinfo',
  revocation: '/oauth/revoke',
  jwks: '/.well-known/jwks.json',
};
const endpointUrl = (path) => new URL(path, ISSUER).href;
const TOKEN_PATH = new URL(ROUTES.token, ISSUER).pathname;
const DEVICE_PATH = new URL(ROUTES.device_authorization, ISSUER).pathname;
const USERINFO_PATH = new URL(ROUTES.userinfo, ISSUER).pathname;
// Auth0 adds its /userinfo URL to the `aud` of an access token that was granted `openid`.
const USERINFO_AUDIENCE = endpointUrl(ROUTES.userinfo);
const USER_CODE_MASK = '****-****';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];
// The API's scopes: the OIDC ones (so that an access token's `scope` lists them, as Auth0's does) and the permissions.
const API_SCOPES = new Set([...OIDC_SCOPES, ...PERMISSIONS]);

// ---------------------------------------------------------------------------------------------- accounts

const DEMO_USERS = {
  'auth0|demo-ada': {
    name: 'Ada Lovelace', nickname: 'ada', given_name: 'Ada', family_name: 'Lovelace',
    email: 'ada@example.com', email_verified: true,
  },
  'auth0|demo-grace': {
    name: 'Grace Hopper', nickname: 'grace', given_name: 'Grace', family_name: 'Hopper',
    email: 'grace@example.com', email_verified: true,
  },
};
const STARTED_AT = Math.floor(Date.now() / 1000);

/** The demo users by id; any other id (e.g. a name typed on the development login page) gets a made-up profile. */
function profileFor(sub) {
  const known = DEMO_USERS[sub];
  if (known) return known;
  const nickname = sub.replace(/^.*\|/, '').replace(/[^A-Za-z0-9._-]/g, '') || 'user';
  return { name: sub, nickname, email: `${nickname}@example.com`, email_verified: false };
}

async function findAccount(_ctx, sub) {
  if (!sub) return undefined;
  const profile = profileFor(sub);
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        ...profile,
        picture: `https://example.com/avatars/${profile.nickname}.png`,
        updated_at: STARTED_AT,
      };
    },
  };
}

// Permissions granted per grant (POST /__test/approve may override them); the default is PERMISSIONS.
const grantPermissions = new Map();

// ---------------------------------------------------------------------------------------------- signing key

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateJwk = privateKey.export({ format: 'jwk' });
// RFC 7638 thumbprint as the key id.
const KID = crypto.createHash('sha256')
  .update(JSON.stringify({ e: privateJwk.e, kty: privateJwk.kty, n: privateJwk.n }))
  .digest('base64url');
const publicKey = crypto.createPublicKey(privateKey);

// ---------------------------------------------------------------------------------------------- provider

const configuration = {
  clients: [{
    client_id: CLIENT_ID,
    client_name: 'Login Feed (desktop)',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: [DEVICE_GRANT, 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  }],
  // Expired entries stay readable for 5 minutes, so that polling an expired device code answers
  // `expired_token` (then `invalid_grant`) instead of "not found".
  adapter: createMemoryAdapter(300),
  jwks: { keys: [{ ...privateJwk, kid: KID, alg: 'RS256', use: 'sig' }] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  routes: ROUTES,
  findAccount,
  claims: {
    openid: ['sub'],
    profile: ['name', 'nickname', 'given_name', 'family_name', 'picture', 'updated_at'],
    email: ['email', 'email_verified'],
  },
  scopes: OIDC_SCOPES,
  extraParams: ['audience'],
  ttl: {
    AccessToken: ACCESS_TOKEN_TTL,
    AuthorizationCode: 60,
    DeviceCode: DEVICE_CODE_TTL,
    Grant: REFRESH_TOKEN_TTL,
    IdToken: ID_TOKEN_TTL,
    Interaction: 3600,
    RefreshToken: REFRESH_TOKEN_TTL,
    Session: 14 * 24 * 3600,
  },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true, charset: 'base-20', mask: USER_CODE_MASK },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Auth0's `audience` parameter names the API; without it, the configured API.
      defaultResource(ctx, _client, oneOf) {
        const requested = ctx.oidc.params?.audience;
        if (requested) return requested;
        if (Array.isArray(oneOf) && oneOf.length) return oneOf[0];
        return AUDIENCE;
      },
      useGrantedResource: () => true,
      getResourceServerInfo(_ctx, resourceIndicator) {
        if (resourceIndicator !== AUDIENCE) {
          throw new errors.InvalidTarget(`Service not found: ${resourceIndicator}`);
        }
        return {
          scope: [...API_SCOPES].join(' '),
          audience: AUDIENCE,
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // Refresh tokens whenever `offline_access` was granted (the default policy, spelled out).
  async issueRefreshToken(_ctx, client, code) {
    return client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access');
  },
  // Auth0 RBAC's `permissions` claim (+ `azp` in Auth0 mode) in every access token.
  async extraTokenClaims(_ctx, token) {
    if (token.kind !== 'AccessToken') return undefined;
    const permissions = grantPermissions.get(token.grantId) ?? PERMISSIONS;
    return AUTH0_COMPAT ? { azp: token.clientId, permissions } : { permissions };
  },
  formats: {
    customizers: {
      jwt(_ctx, token, jwt) {
        if (AUTH0_COMPAT && token.scopes.has('openid') && typeof jwt.payload.aud === 'string') {
          jwt.payload.aud = [jwt.payload.aud, USERINFO_AUDIENCE];
        }
      },
    },
  },
  renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
};

const provider = new Provider(ISSUER, configuration);

// ---------------------------------------------------------------------------------------------- helpers

async function readJson(ctx) {
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

function answer(ctx, status, body) {
  ctx.status = status;
  ctx.type = 'json';
  ctx.body = body;
}

/** The same normalisation as oidc-provider's own verification page: upper case, no separators. */
function normalizeUserCode(input) {
  return String(input ?? '').replace(/[a-z]/g, (c) => c.toUpperCase()).replace(/\W/g, '');
}

/** A stored (normalised) user code as the user sees it, e.g. BCDF-GHJK. */
function displayUserCode(normalized) {
  const chars = normalized.split('');
  return USER_CODE_MASK.split('').map((p) => (p === '*' ? chars.shift() : p)).join('');
}

async function pendingCode(ctx, body) {
  const userCode = normalizeUserCode(body.user_code);
  const code = userCode
    ? await provider.DeviceCode.findByUserCode(userCode, { ignoreExpiration: true })
    : undefined;
  if (!code) {
    answer(ctx, 404, { error: 'not_found', error_description: `unknown user code ${JSON.stringify(body.user_code)}` });
    return undefined;
  }
  if (code.isExpired) {
    answer(ctx, 409, { error: 'expired_token', error_description: 'the device code has expired' });
    return undefined;
  }
  if (code.error || code.accountId || code.consumed) {
    answer(ctx, 409, { error: 'already_used', error_description: 'the device code was already approved or denied' });
    return undefined;
  }
  return code;
}

const testRoutes = {
  'GET /__test/health': async (ctx) => answer(ctx, 200, {
    ok: true, issuer: ISSUER, client_id: CLIENT_ID, audience: AUDIENCE, interval: INTERVAL,
    auth0_compat: AUTH0_COMPAT, enforce_interval: ENFORCE_INTERVAL,
  }),

  // {user_code, sub?, permissions?}: what the user would do on the verification page, done in-process.
  'POST /__test/approve': async (ctx) => {
    const body = await readJson(ctx);
    const code = await pendingCode(ctx, body);
    if (!code) return;
    const sub = body.sub || 'auth0|demo-ada';
    const params = code.params ?? {};
    const requested = String(params.scope ?? '').split(' ').filter(Boolean);
    const resource = [params.resource].flat().find(Boolean) || params.audience || AUDIENCE;
    const oidcScope = requested.filter((s) => OIDC_SCOPES.includes(s)).join(' ');
    const apiScope = requested.filter((s) => API_SCOPES.has(s)).join(' ');

    const grant = new provider.Grant({ accountId: sub, clientId: code.clientId });
    if (oidcScope) grant.addOIDCScope(oidcScope);
    if (apiScope) grant.addResourceScope(resource, apiScope);
    const grantId = await grant.save();
    if (Array.isArray(body.permissions)) grantPermissions.set(grantId, body.permissions.map(String));

    Object.assign(code, {
      accountId: sub,
      grantId,
      scope: requested.join(' '),
      resource,
      authTime: Math.floor(Date.now() / 1000),
    });
    await code.save();
    answer(ctx, 200, {
      ok: true, user_code: displayUserCode(code.userCode), sub, scope: code.scope, audience: resource,
      permissions: grantPermissions.get(grantId) ?? PERMISSIONS,
    });
  },

  // {user_code}: the user pressed "cancel" (Auth0: access_denied).
  'POST /__test/deny': async (ctx) => {
    const body = await readJson(ctx);
    const code = await pendingCode(ctx, body);
    if (!code) return;
    Object.assign(code, { error: 'access_denied', errorDescription: 'User cancelled the confirmation prompt.' });
    await code.save();
    answer(ctx, 200, { ok: true, user_code: displayUserCode(code.userCode), error: 'access_denied' });
  },

  // {user_code}: the device code expires now (its next poll answers expired_token).
  'POST /__test/expire': async (ctx) => {
    const body = await readJson(ctx);
    const code = await provider.DeviceCode.findByUserCode(normalizeUserCode(body.user_code), { ignoreExpiration: true });
    if (!code) {
      answer(ctx, 404, { error: 'not_found', error_description: `unknown user code ${JSON.stringify(body.user_code)}` });
      return;
    }
    code.exp = Math.floor(Date.now() / 1000) - 1;
    await code.save();
    answer(ctx, 200, { ok: true, user_code: displayUserCode(code.userCode), exp: code.exp });
  },
};

// ---------------------------------------------------------------------------------------------- Auth0 behaviour

const AUTH0_STATUS = {
  authorization_pending: 403,
  access_denied: 403,
  expired_token: 403,
  invalid_grant: 403,
  slow_down: 429,
};
const AUTH0_INVALID_GRANT = {
  [DEVICE_GRANT]: 'Invalid or expired device code.',
  refresh_token: 'Unknown or invalid refresh token.',
};
const lastPoll = new Map(); // device_code -> ms timestamp of its previous poll
const expiredAnswered = new Set(); // device codes that already got `expired_token` once

function forgetOldPolls(now) {
  if (lastPoll.size < 1000) return;
  for (const [key, at] of lastPoll) {
    if (now - at > (DEVICE_CODE_TTL + 600) * 1000) lastPoll.delete(key);
  }
}

/** Token endpoint, device grant: slow_down, expired_token only once, Auth0's statuses. */
async function tokenEndpointCompat(ctx, next) {
  await next();
  let params;
  try {
    params = ctx.oidc?.params;
  } catch {
    params = undefined;
  }
  const body = ctx.body;
  if (!params || !body || typeof body !== 'object' || !body.error) return;

  if (params.grant_type === DEVICE_GRANT && params.device_code) {
    const deviceCode = String(params.device_code);
    const now = Date.now();
    if (body.error === 'authorization_pending' && ENFORCE_INTERVAL) {
      const previous = lastPoll.get(deviceCode);
      lastPoll.set(deviceCode, now);
      forgetOldPolls(now);
      if (previous !== undefined && now - previous < (INTERVAL - INTERVAL_TOLERANCE) * 1000) {
        ctx.status = 400;
        ctx.body = {
          error: 'slow_down',
          error_description: `You are polling faster than the specified interval of ${INTERVAL} seconds.`,
        };
      }
    } else if (AUTH0_COMPAT && body.error === 'expired_token') {
      if (expiredAnswered.has(deviceCode)) {
        ctx.body = { error: 'invalid_grant', error_description: 'Invalid or expired device code.' };
      } else {
        expiredAnswered.add(deviceCode);
      }
    }
  }

  if (AUTH0_COMPAT && params.grant_type && AUTH0_STATUS[ctx.body.error]) {
    ctx.status = AUTH0_STATUS[ctx.body.error];
    // oidc-provider hides the reason of an invalid_grant ("grant request is invalid"); Auth0's wording:
    if (ctx.body.error === 'invalid_grant' && AUTH0_INVALID_GRANT[params.grant_type]) {
      ctx.body = { error: 'invalid_grant', error_description: AUTH0_INVALID_GRANT[params.grant_type] };
    }
  }
}

/** Device authorization: Auth0 always sends `interval`; oidc-provider omits it. */
async function deviceAuthorizationCompat(ctx, next) {
  await next();
  if (ctx.status === 200 && ctx.body && typeof ctx.body === 'object' && ctx.body.interval === undefined) {
    ctx.body = { ...ctx.body, interval: INTERVAL };
  }
}

function verifyJwt(token) {
  const parts = String(token).split('.');
  if (parts.length !== 3) throw new Error('not a JWT');
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
  if (header.alg !== 'RS256' || header.kid !== KID) throw new Error('unexpected alg or kid');
  const ok = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2], 'base64url'));
  if (!ok) throw new Error('bad signature');
  const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  if (payload.iss !== ISSUER) throw new Error('wrong issuer');
  if (typeof payload.exp !== 'number' || payload.exp <= Date.now() / 1000) throw new Error('token expired');
  const aud = [payload.aud].flat();
  if (!aud.includes(USERINFO_AUDIENCE)) throw new Error('token audience does not include /userinfo');
  return payload;
}

/** /userinfo as Auth0 answers it: it accepts the API's JWT access token when `openid` was granted. */
async function userinfoCompat(ctx, next) {
  if (!['GET', 'POST'].includes(ctx.method)) {
    await next();
    return;
  }
  const match = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
  const unauthorized = (description) => {
    ctx.set('WWW-Authenticate', `Bearer error="invalid_token", error_description="${description}"`);
    answer(ctx, 401, { error: 'invalid_token', error_description: description });
  };
  if (!match) {
    unauthorized('no bearer token');
    return;
  }
  let payload;
  try {
    payload = verifyJwt(match[1]);
  } catch (err) {
    unauthorized(err.message);
    return;
  }
  const scopes = new Set(String(payload.scope ?? '').split(' '));
  if (!scopes.has('openid')) {
    unauthorized('access token missing openid scope');
    return;
  }
  const account = await findAccount(ctx, payload.sub);
  const claims = await account.claims('userinfo', payload.scope);
  const allowed = new Set(['sub']);
  for (const scope of scopes) {
    for (const claim of configuration.claims[scope] ?? []) allowed.add(claim);
  }
  ctx.set('Cache-Control', 'no-store');
  answer(ctx, 200, Object.fromEntries(Object.entries(claims).filter(([name]) => allowed.has(name))));
}

provider.use(async (ctx, next) => {
  if (ctx.path.startsWith('/__test/')) {
    const route = TEST_ROUTES && testRoutes[`${ctx.method} ${ctx.path}`];
    if (!route) {
      answer(ctx, 404, { error: 'not_found', error_description: `no test route ${ctx.method} ${ctx.path}` });
      return;
    }
    try {
      await route(ctx);
    } catch (err) {
      answer(ctx, 400, { error: 'invalid_request', error_description: String(err?.message ?? err) });
    }
    return;
  }
  if (ctx.path === TOKEN_PATH && ctx.method === 'POST') {
    await tokenEndpointCompat(ctx, next);
    return;
  }
  if (AUTH0_COMPAT && ctx.path === DEVICE_PATH && ctx.method === 'POST') {
    await deviceAuthorizationCompat(ctx, next);
    return;
  }
  if (AUTH0_COMPAT && ctx.path === USERINFO_PATH) {
    await userinfoCompat(ctx, next);
    return;
  }
  await next();
});

// ---------------------------------------------------------------------------------------------- server

const server = http.createServer(provider.callback());
server.on('error', (err) => {
  console.error(`oidc provider: cannot listen on ${HOST}:${PORT}: ${err.message}`);
  process.exit(1);
});
server.listen(PORT, HOST, () => {
  console.log(`READY ${ISSUER}`);
});

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
