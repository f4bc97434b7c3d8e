/**
 * Shared by the Action's tests (not a test file itself): a real soketi on free loopback ports, a pusher-js
 * subscriber that authorizes channels the way a feed page's endpoint would, post-login events shaped as Auth0
 * documents them (docs: Actions Triggers: post-login - Event Object), and a runner that holds the Action to its
 * promises (resolves, within budget, never touches `api`).
 */
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const PusherJS = require('pusher-js');

const action = require('./login-feed-action.js');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SOKETI_SERVER_JS = path.join(REPO_ROOT, 'node_modules', '@soketi', 'soketi', 'bin', 'server.js');
const APP_ID = '1';
const APP_KEY = 'app-key';
const APP_SECRET = 'app-secret';
const MASTER_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const MASTER_KEY_BASE64 = MASTER_KEY.toString('base64');
const FEED_CHANNEL = 'private-login-feed';
const ENCRYPTED_CHANNEL = 'private-encrypted-login-feed';
/**
 * A guard against a hang, not a speed test: the Action gives up after 3 s by its own timer (the tests check
 * that by its log line); this only catches a publish with no deadline at all, with room for a loaded machine.
 */
const HANG_GUARD_MS = 10000;

// ------------------------------------------------------------------------------------------ helpers

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

async function waitFor(predicate, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = predicate();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** One soketi child process on two free loopback ports, output in a private temporary directory. */
async function startSoketi() {
  assert.ok(fs.existsSync(SOKETI_SERVER_JS), `${SOKETI_SERVER_JS} is missing: run \`npm install\` at the repository root`);
  const port = await freePort();
  let metricsPort = await freePort();
  while (metricsPort === port) metricsPort = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'login-feed-action-soketi-'));
  const logPath = path.join(dir, 'soketi.log');
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SOKETI_')));
  Object.assign(env, {
    SOKETI_HOST: '127.0.0.1',
    SOKETI_PORT: String(port),
    SOKETI_METRICS_ENABLED: 'false',
    SOKETI_METRICS_HOST: '127.0.0.1',
    SOKETI_METRICS_SERVER_PORT: String(metricsPort),
    SOKETI_DEFAULT_APP_ID: APP_ID,
    SOKETI_DEFAULT_APP_KEY: APP_KEY,
    SOKETI_DEFAULT_APP_SECRET: APP_SECRET,
    SOKETI_SHUTDOWN_GRACE_PERIOD: '100',
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
  });
  const log = fs.openSync(logPath, 'a');
  // cwd: soketi loads ./.env, so it runs where there is none.
  const child = spawn(process.execPath, [SOKETI_SERVER_JS, 'start'], { cwd: dir, env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const exited = new Promise((resolve) => { child.once('exit', resolve); });
  const tail = () => fs.readFileSync(logPath, 'utf8').slice(-3000);

  const server = {
    port,
    running: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (server.running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
        await exited;
        clearTimeout(timer);
      }
    },
    async close() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + 15000;
  for (;;) {
    if (!server.running()) throw new Error(`soketi exited before it was ready:\n${tail()}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() >= deadline) {
      await server.close();
      throw new Error(`soketi was not ready on port ${port} within 15 s:\n${tail()}`);
    }
    await sleep(50);
  }
}

function sign(text) {
  return crypto.createHmac('sha256', APP_SECRET).update(text).digest('hex');
}

/** A pusher-js client (as a feed page in Node) that authorizes channels with the app secret itself. */
async function connectClient(port) {
  const client = new PusherJS(APP_KEY, {
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: port,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        const answer = { auth: `${APP_KEY}:${sign(`${socketId}:${channelName}`)}` };
        if (channelName.startsWith('private-encrypted-')) {
          answer.shared_secret = crypto.createHash('sha256')
            .update(Buffer.concat([Buffer.from(channelName), MASTER_KEY])).digest('base64');
        }
        callback(null, answer);
      },
    },
  });
  const raw = [];
  client.bind_global((event, data) => raw.push({ event, data })); // before decryption
  await new Promise((resolve, reject) => {
    client.connection.bind('connected', resolve);
    client.connection.bind('failed', () => reject(new Error('pusher-js: connection failed')));
    client.connection.bind('unavailable', () => reject(new Error('pusher-js: server unavailable')));
  });
  return { client, raw };
}

/** Subscribe and wait for the server's answer; returns the list every later event is pushed to. */
async function subscribe(client, name) {
  const channel = client.subscribe(name);
  await new Promise((resolve, reject) => {
    channel.bind('pusher:subscription_succeeded', resolve);
    channel.bind('pusher:subscription_error', (error) => reject(new Error(`subscription to ${name}: ${JSON.stringify(error)}`)));
  });
  const events = [];
  channel.bind_global((event, data) => {
    if (!event.startsWith('pusher:')) events.push({ event, data });
  });
  return events;
}

function secretsFor(port, extra = {}) {
  return {
    PUSHER_APP_ID: APP_ID,
    PUSHER_KEY: APP_KEY,
    PUSHER_SECRET: APP_SECRET,
    PUSHER_CLUSTER: 'mt1',
    PUSHER_HOST: '127.0.0.1',
    PUSHER_PORT: String(port),
    PUSHER_USE_TLS: 'false',
    ...extra,
  };
}

let sequence = 0;
const MINUTE_MS = 60 * 1000;
const SUPPORT_PORTAL = { client_id: 'cl_support_portal', name: 'Support Portal', metadata: {} };
const BILLING = { client_id: 'cl_billing', name: 'Billing', metadata: {} };

/**
 * A post-login event shaped as Auth0 documents it (the fields the Action reads, and the neighbours a real one
 * carries). `methods` defaults to one password authentication `methodAgoMs` ago; `prompt: 'none'` makes it
 * silent authentication, in `transaction.prompt` (a list) and/or `request.query.prompt` (a string) as
 * `promptIn` says; `protocol: 'oauth2-refresh-token'` makes it a refresh-token exchange (a POST to /oauth/token).
 */
function postLoginEvent(secrets, {
  loginsCount = 7, user = {}, protocol = 'oidc-basic-profile', methodAgoMs = 1000, methods = null,
  prompt = null, promptIn = 'both', client = SUPPORT_PORTAL, now = Date.now(),
} = {}) {
  sequence += 1;
  const refresh = protocol === 'oauth2-refresh-token';
  const query = refresh ? {} : {
    client_id: client.client_id,
    response_type: 'code',
    redirect_uri: 'https://portal.example.com/callback',
    scope: 'openid profile email offline_access',
    state: `state-${sequence}`,
    nonce: `nonce-${sequence}`,
  };
  const transaction = {
    id: `tx-${sequence}`,
    locale: 'en',
    protocol,
    requested_scopes: ['openid', 'profile', 'email', 'offline_access'],
    redirect_uri: 'https://portal.example.com/callback',
    response_mode: 'query',
    response_type: ['code'],
    state: `state-${sequence}`,
    ui_locales: [],
  };
  if (prompt) {
    if (promptIn !== 'query') transaction.prompt = [prompt];
    if (promptIn !== 'transaction') query.prompt = prompt;
    if (prompt === 'none') {
      query.response_mode = 'web_message'; // auth0-spa-js renews in a hidden iframe
      transaction.response_mode = 'web_message';
    }
  }
  return {
    secrets,
    tenant: { id: 'login-feed-test' },
    client,
    connection: { id: 'con_1', name: 'Username-Password-Authentication', strategy: 'auth0', metadata: {} },
    request: {
      ip: '203.0.113.9',
      hostname: 'login-feed-test.eu.auth0.com',
      method: refresh ? 'POST' : 'GET',
      language: 'en',
      user_agent: 'Mozilla/5.0 (test)',
      query,
      body: refresh ? { grant_type: 'refresh_token', client_id: client.client_id } : {},
      geoip: {
        countryCode: 'GB', countryCode3: 'GBR', countryName: 'United Kingdom', cityName: 'London',
        continentCode: 'EU', timeZone: 'Europe/London',
      },
    },
    transaction,
    authentication: {
      methods: methods || [{ name: 'pwd', timestamp: new Date(now - methodAgoMs).toISOString() }],
    },
    authorization: { roles: [] },
    session: { id: `session-${process.pid}` },
    stats: { logins_count: loginsCount },
    user: {
      user_id: `auth0|action-test-${process.pid}-${sequence}`,
      email: `ada${sequence}@example.com`,
      email_verified: true,
      name: 'Ada Lovelace',
      nickname: 'ada',
      picture: 'https://example.com/ada.png',
      created_at: '2026-11-20T10:11:12.345Z',
      updated_at: '2026-11-20T10:11:12.345Z',
      app_metadata: { plan: 'secret-plan', internal_note: 'must never be published' },
      user_metadata: { hobby: 'engines' },
      identities: [{ connection: 'Username-Password-Authentication', provider: 'auth0', user_id: 'x', isSocial: false }],
      ...user,
    },
  };
}

/**
 * The flows the issue names, for a user who signed up moments ago (logins_count is still 1 wherever Auth0
 * does not count the transaction), with what the feed must show: an event name, or null for nothing.
 * `make(secrets, now)` builds the event as of `now` (epoch milliseconds; default: the current time).
 */
const SCENARIOS = [
  { name: 'first login', expect: 'user-signedUp', make: (secrets, now) => postLoginEvent(secrets, { now, loginsCount: 1 }) },
  { name: 'repeat login', expect: 'user-loggedIn', make: (secrets, now) => postLoginEvent(secrets, { now, loginsCount: 8 }) },
  {
    name: 'silent renewal',
    expect: null,
    make: (secrets, now) => postLoginEvent(secrets, { now, loginsCount: 1, methodAgoMs: 20 * MINUTE_MS, prompt: 'none' }),
  },
  {
    name: 'SSO into a second app',
    expect: 'user-loggedIn',
    make: (secrets, now) => postLoginEvent(secrets, { now, loginsCount: 1, methodAgoMs: 20 * MINUTE_MS, client: BILLING }),
  },
  {
    name: 'refresh token',
    expect: null,
    make: (secrets, now) => postLoginEvent(secrets, { now, loginsCount: 1, methodAgoMs: 180 * MINUTE_MS, protocol: 'oauth2-refresh-token' }),
  },
];

/** An `api` whose every method (api.access.deny, api.idToken.setCustomClaim, ...) only records the call. */
function fakeApi() {
  const calls = [];
  const namespace = (name) => new Proxy({}, {
    get: (_, method) => (...args) => { calls.push({ method: `${name}.${String(method)}`, args }); },
  });
  const api = new Proxy({}, { get: (_, name) => namespace(String(name)) });
  return { api, calls };
}

/** Capture console.log for the rest of the test (restored by node:test when it ends). */
function captureLogs(t) {
  const lines = [];
  t.mock.method(console, 'log', (...args) => { lines.push(args.map(String).join(' ')); });
  return lines;
}

function assertNoSecretsLogged(lines, ...secrets) {
  for (const line of lines) {
    for (const secret of [APP_SECRET, MASTER_KEY_BASE64, ...secrets]) assert.ok(!line.includes(secret), `a secret was logged: ${line}`);
    assert.ok(!/auth_signature|auth_key|body_md5/.test(line), `a signed URL was logged: ${line}`);
  }
}

/** Run the Action as Auth0 would; it must resolve (never throw), inside the budget, without touching `api`. */
async function runAction(event, { budgetMs = HANG_GUARD_MS } = {}) {
  const { api, calls } = fakeApi();
  const started = performance.now();
  const result = await action.onExecutePostLogin(event, api);
  const elapsed = performance.now() - started;
  assert.equal(result, undefined);
  assert.deepEqual(calls, [], 'the Action must never call api (no api.access.deny)');
  assert.ok(elapsed < budgetMs, `the login waited ${elapsed.toFixed(0)} ms: the Action has no deadline`);
  return elapsed;
}

const ofUser = (events, userId) => events.filter((e) => e.data && e.data.user_id === userId);

/** The first event for `userId` in `events`, waiting for it (5 s at most). */
async function arrival(events, userId, what) {
  await waitFor(() => ofUser(events, userId).length > 0, what);
  return ofUser(events, userId)[0];
}

module.exports = {
  APP_ID, APP_KEY, APP_SECRET, MASTER_KEY, MASTER_KEY_BASE64, FEED_CHANNEL, ENCRYPTED_CHANNEL, REPO_ROOT,
  MINUTE_MS, SUPPORT_PORTAL, BILLING, SCENARIOS,
  sleep, waitFor, freePort, startSoketi, connectClient, subscribe, secretsFor, postLoginEvent, fakeApi,
  captureLogs, assertNoSecretsLogged, runAction, ofUser, arrival,
};
