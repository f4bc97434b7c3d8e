/**
 * Tests of the Login Feed post-login Action against a real soketi (a Pusher-protocol server).
 *
 * Run from the repository root: `node --test resources/auth0/` (needs `npm install` at the root for soketi,
 * pusher and pusher-js). One soketi is started on free loopback ports in `before` and stopped in `after` (the
 * last test also stops it, to publish at a server that has gone away). A pusher-js client subscribes the way
 * a feed page would; `onExecutePostLogin` runs with a fake `event` and a fake `api` that records any call.
 */
'use strict';

const { after, before, describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const Pusher = require('pusher');
const PusherJS = require('pusher-js');

const action = require('./login-feed-action.js');

const { buildPayload, resolveChannel, constants } = action;

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SOKETI_SERVER_JS = path.join(REPO_ROOT, 'node_modules', '@soketi', 'soketi', 'bin', 'server.js');
const APP_ID = '1';
const APP_KEY = 'app-key';
const APP_SECRET = 'app-secret';
const MASTER_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const MASTER_KEY_BASE64 = MASTER_KEY.toString('base64');
const FEED_CHANNEL = 'private-login-feed';
const ENCRYPTED_CHANNEL = 'private-encrypted-login-feed';
/** The Action's promise: a publish that cannot finish is given up after 3 s; allow scheduling slack. */
const LOGIN_BUDGET_MS = 3500;

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

/** A post-login event as Auth0 hands it to the Action (the fields the Action reads, and a few more). */
function fakeEvent(secrets, { loginsCount = 7, user = {}, protocol = 'oidc-basic-profile', methodAgoMs = 1000 } = {}) {
  sequence += 1;
  return {
    secrets,
    transaction: { protocol, id: `tx-${sequence}` },
    stats: { logins_count: loginsCount },
    user: {
      user_id: `auth0|action-test-${process.pid}-${sequence}`,
      email: `ada${sequence}@example.com`,
      email_verified: true,
      name: 'Ada Lovelace',
      nickname: 'ada',
      picture: 'https://example.com/ada.png',
      updated_at: '2026-11-20T10:11:12.345Z',
      app_metadata: { plan: 'secret-plan', internal_note: 'must never be published' },
      user_metadata: { hobby: 'engines' },
      ...user,
    },
    connection: { id: 'con_1', name: 'Username-Password-Authentication', strategy: 'auth0' },
    client: { client_id: 'abc', name: 'Support Portal', metadata: {} },
    request: {
      ip: '203.0.113.9',
      user_agent: 'test',
      geoip: { countryCode: 'GB', countryName: 'United Kingdom', cityName: 'London' },
    },
    authentication: { methods: [{ name: 'pwd', timestamp: new Date(Date.now() - methodAgoMs).toISOString() }] },
    tenant: { id: 'login-feed-test' },
  };
}

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
async function runAction(event, { budgetMs = LOGIN_BUDGET_MS } = {}) {
  const { api, calls } = fakeApi();
  const started = performance.now();
  const result = await action.onExecutePostLogin(event, api);
  const elapsed = performance.now() - started;
  assert.equal(result, undefined);
  assert.deepEqual(calls, [], 'the Action must never call api (no api.access.deny)');
  assert.ok(elapsed < budgetMs, `the login waited ${elapsed.toFixed(0)} ms (budget ${budgetMs} ms)`);
  return elapsed;
}

const ofUser = (events, userId) => events.filter((e) => e.data && e.data.user_id === userId);

/** The first event for `userId` in `events`, waiting for it (5 s at most). */
async function arrival(events, userId, what) {
  await waitFor(() => ofUser(events, userId).length > 0, what);
  return ofUser(events, userId)[0];
}

// ------------------------------------------------------------------------------------------ pure parts

describe('buildPayload', () => {
  test('a login: the v1 fields, from event.user / connection / client / request / stats', () => {
    const at = '2026-11-21T09:59:58.000Z';
    const event = fakeEvent({}, { loginsCount: 42 });
    event.authentication.methods = [{ name: 'federated', timestamp: '2026-11-01T00:00:00.000Z' }, { name: 'pwd', timestamp: at }];
    const payload = buildPayload(event, new Date('2026-11-21T10:00:00.000Z'));
    assert.deepEqual(payload, {
      v: 1,
      type: 'login',
      user_id: event.user.user_id,
      email: event.user.email,
      name: 'Ada Lovelace',
      nickname: 'ada',
      picture: 'https://example.com/ada.png',
      connection: 'Username-Password-Authentication',
      client_name: 'Support Portal',
      country: 'GB',
      city: 'London',
      ip: '203.0.113.9',
      logins_count: 42,
      at,
      updated_at: '2026-11-20T10:11:12.345Z',
      app_metadata: { signedUp: false },
    });
    assert.deepEqual(Object.keys(payload), [
      'v', 'type', 'user_id', 'email', 'name', 'nickname', 'picture', 'connection', 'client_name', 'country',
      'city', 'ip', 'logins_count', 'at', 'updated_at', 'app_metadata',
    ]);
  });

  test('logins_count 1 is a signup; anything else (or none) a login', () => {
    const now = Date.UTC(2026, 10, 21);
    const signup = buildPayload(fakeEvent({}, { loginsCount: 1 }), now);
    assert.equal(signup.type, 'signup');
    assert.deepEqual(signup.app_metadata, { signedUp: true });
    for (const loginsCount of [0, 2, '1', null, undefined, 1.5, -1]) {
      const payload = buildPayload(fakeEvent({}, { loginsCount }), now);
      assert.equal(payload.type, 'login', `logins_count ${loginsCount}`);
      assert.deepEqual(payload.app_metadata, { signedUp: false });
    }
  });

  test('`at` is the fresh authentication time, else now (SSO reuses an old one); always UTC ISO-8601', () => {
    const now = new Date('2026-11-21T10:00:00.000Z');
    const fresh = fakeEvent({});
    fresh.authentication.methods = [{ name: 'pwd', timestamp: '2026-11-21T10:59:59+01:00' }];
    assert.equal(buildPayload(fresh, now).at, '2026-11-21T09:59:59.000Z');
    const sso = fakeEvent({});
    sso.authentication.methods = [{ name: 'pwd', timestamp: '2026-11-20T08:00:00.000Z' }];
    assert.equal(buildPayload(sso, now).at, '2026-11-21T10:00:00.000Z');
    const none = fakeEvent({});
    delete none.authentication;
    assert.equal(buildPayload(none, now).at, '2026-11-21T10:00:00.000Z');
    const garbage = fakeEvent({});
    garbage.authentication.methods = [{ timestamp: 'yesterday' }, null, 17];
    assert.equal(buildPayload(garbage, now).at, '2026-11-21T10:00:00.000Z');
  });

  test('an almost empty event gives nulls, never undefined or a throw', () => {
    const payload = buildPayload({ user: {} }, 0);
    assert.equal(payload.type, 'login');
    assert.equal(payload.at, '1970-01-01T00:00:00.000Z');
    for (const key of ['user_id', 'email', 'name', 'picture', 'connection', 'country', 'ip', 'logins_count', 'updated_at']) {
      assert.equal(payload[key], null, key);
    }
    assert.doesNotThrow(() => buildPayload(undefined));
    assert.doesNotThrow(() => buildPayload({ user: { name: 12, email: {}, updated_at: 'not a date' } }));
  });

  test('strings are cut (with an ellipsis, never inside a surrogate pair); lone surrogates become U+FFFD', () => {
    const event = fakeEvent({}, { user: { name: '\u{1F600}'.repeat(300), nickname: 'a\ud800b', picture: `https://x/${'p'.repeat(5000)}` } });
    const payload = buildPayload(event, 0);
    assert.ok(payload.name.length <= 256);
    assert.ok(payload.name.endsWith('\u{1F600}\u2026'));
    assert.equal(payload.nickname, 'a\ufffdb');
    assert.equal(payload.picture.length, 512);
    assert.equal(Buffer.from(JSON.stringify(payload), 'utf8').toString('utf8'), JSON.stringify(payload));
  });

  test('the worst profile imaginable still serializes under 4 KB, keeping who and when', () => {
    const ugly = '\u0001'.repeat(1 << 20); // six bytes of JSON per character
    const event = {
      user: { user_id: ugly, email: ugly, name: ugly, nickname: ugly, picture: ugly, updated_at: ugly },
      connection: { name: ugly },
      client: { name: ugly },
      request: { ip: ugly, geoip: { countryCode: ugly, cityName: ugly } },
      stats: { logins_count: 1 },
    };
    const payload = buildPayload(event, 0);
    const bytes = Buffer.byteLength(JSON.stringify(payload));
    assert.ok(bytes < constants.MAX_PAYLOAD_BYTES, `${bytes} bytes`);
    assert.ok(payload.user_id && payload.email);
    assert.equal(payload.type, 'signup');
    assert.equal(payload.name, null); // dropped to make room
  });
});

describe('describeError', () => {
  test('keeps the status and the reason, never the signed URL or a secret', () => {
    const url = 'https://api-mt1.pusher.com/apps/1/events?auth_key=app-key&auth_timestamp=1&auth_version=1.0&body_md5=ab&auth_signature=deadbeef';
    const secrets = { PUSHER_SECRET: 'top-secret-value' };
    const http = new Pusher.RequestError('Unexpected status code 401', url, undefined, 401, 'Invalid signature: top-secret-value');
    assert.equal(action.describeError(http, secrets), 'HTTP 401 Invalid signature: <redacted>');
    const inner = Object.assign(new Error(`request to ${url} failed, reason: connect ECONNREFUSED`), { code: 'ECONNREFUSED' });
    const network = new Pusher.RequestError('Request failed with an error', url, inner);
    assert.equal(action.describeError(network, secrets), 'request failed: ECONNREFUSED');
    const other = new Error(`boom at ${url} with top-secret-value`);
    assert.equal(action.describeError(other, secrets), 'Error: boom at <url> with <redacted>');
  });
});

describe('resolveChannel', () => {
  test('default and configured channels without encryption', () => {
    assert.deepEqual(resolveChannel({}), { channel: FEED_CHANNEL, note: null });
    assert.deepEqual(resolveChannel({ PUSHER_CHANNEL: 'auth0' }), { channel: 'auth0', note: null });
    assert.equal(resolveChannel({ PUSHER_CHANNEL: 'no spaces' }).channel, FEED_CHANNEL);
    assert.equal(resolveChannel({ PUSHER_CHANNEL: 'private-encrypted-x' }).channel, null);
  });

  test('with a master key the channel is always private-encrypted-', () => {
    const key = { PUSHER_ENCRYPTION_MASTER_KEY_BASE64: MASTER_KEY_BASE64 };
    assert.deepEqual(resolveChannel(key), { channel: ENCRYPTED_CHANNEL, note: null });
    assert.equal(resolveChannel({ ...key, PUSHER_CHANNEL: 'private-login-feed' }).channel, ENCRYPTED_CHANNEL);
    assert.equal(resolveChannel({ ...key, PUSHER_CHANNEL: 'auth0' }).channel, 'private-encrypted-auth0');
    assert.equal(resolveChannel({ ...key, PUSHER_CHANNEL: 'private-encrypted-ops' }).channel, 'private-encrypted-ops');
    assert.equal(resolveChannel({ ...key, PUSHER_CHANNEL: `private-${'x'.repeat(190)}` }).channel, ENCRYPTED_CHANNEL);
    assert.match(resolveChannel({ ...key, PUSHER_CHANNEL: 'auth0' }).note, /encryption is on/);
  });
});

// ------------------------------------------------------------------------------------------ against soketi

describe('onExecutePostLogin against a real soketi', () => {
  let soketi;
  let feed; // pusher-js subscribed to private-login-feed
  let vault; // pusher-js subscribed to private-encrypted-login-feed
  const clients = [];
  const servers = [];

  before(async () => {
    soketi = await startSoketi();
    const plain = await connectClient(soketi.port);
    clients.push(plain.client);
    feed = { events: await subscribe(plain.client, FEED_CHANNEL) };
    const secret = await connectClient(soketi.port);
    clients.push(secret.client);
    vault = { events: await subscribe(secret.client, ENCRYPTED_CHANNEL), raw: secret.raw };
  });

  after(async () => {
    for (const client of clients) client.disconnect();
    for (const server of servers) await new Promise((resolve) => { server.close(resolve); });
    if (soketi) await soketi.close();
  });

  test('a login arrives as user-loggedIn with exactly the v1 payload', async (t) => {
    const logs = captureLogs(t);
    const event = fakeEvent(secretsFor(soketi.port), { loginsCount: 5 });
    await runAction(event);
    const received = await arrival(feed.events, event.user.user_id, 'the login');
    assert.equal(received.event, 'user-loggedIn');
    assert.deepEqual(received.data, buildPayload(event, Date.now()));
    assert.equal(received.data.type, 'login');
    assert.equal(received.data.logins_count, 5);
    assert.deepEqual(received.data.app_metadata, { signedUp: false }); // not the user's own app_metadata
    assert.match(logs.join('\n'), /published user-loggedIn on private-login-feed/);
    assert.ok(!logs.join('\n').includes(event.user.email), 'no personal data in the log');
    assertNoSecretsLogged(logs);
  });

  test('logins_count 1 arrives as user-signedUp, type signup, app_metadata.signedUp true', async () => {
    const event = fakeEvent(secretsFor(soketi.port), { loginsCount: 1 });
    await runAction(event);
    const received = await arrival(feed.events, event.user.user_id, 'the signup');
    assert.equal(received.event, 'user-signedUp');
    assert.equal(received.data.type, 'signup');
    assert.deepEqual(received.data.app_metadata, { signedUp: true });
    assert.deepEqual(received.data, buildPayload(event, Date.now()));
  });

  test('a refresh-token exchange publishes nothing', async (t) => {
    const trigger = t.mock.method(Pusher.prototype, 'trigger');
    const logs = captureLogs(t);
    const skipped = fakeEvent(secretsFor(soketi.port), { protocol: 'oauth2-refresh-token' });
    const elapsed = await runAction(skipped);
    assert.equal(trigger.mock.callCount(), 0, 'no request to Pusher at all');
    assert.ok(elapsed < 50, `${elapsed} ms`);
    assert.deepEqual(logs, []);
    // The wire agrees. Had the skipped event been published, its (awaited) trigger would have reached
    // soketi before the marker's, and soketi delivers one channel's events in order on a connection: once
    // the marker is here, the skipped one can no longer be on its way. The extra 300 ms only covers a
    // hypothetical reordering; the decisive check is the trigger count above.
    const marker = fakeEvent(secretsFor(soketi.port));
    await runAction(marker);
    await waitFor(() => ofUser(feed.events, marker.user.user_id).length, 'the marker login');
    await sleep(300);
    assert.deepEqual(ofUser(feed.events, skipped.user.user_id), []);
  });

  test('a huge profile (1 MB name and picture) is published, under 4 KB', async () => {
    const event = fakeEvent(secretsFor(soketi.port), {
      user: { name: '<b>'.repeat(350000), picture: `https://example.com/${'p'.repeat(1 << 20)}`, nickname: '\u00e9'.repeat(1 << 20) },
    });
    await runAction(event);
    const received = await arrival(feed.events, event.user.user_id, 'the big login');
    const bytes = Buffer.byteLength(JSON.stringify(received.data));
    assert.ok(bytes < 4096, `${bytes} bytes`);
    assert.ok(received.data.name.startsWith('<b><b>') && received.data.name.endsWith('\u2026'));
    assert.deepEqual(received.data, buildPayload(event, Date.now()));
  });

  test('with a master key: end-to-end encrypted on private-encrypted-login-feed', async (t) => {
    const logs = captureLogs(t);
    const event = fakeEvent(secretsFor(soketi.port, { PUSHER_ENCRYPTION_MASTER_KEY_BASE64: MASTER_KEY_BASE64 }), { loginsCount: 1 });
    await runAction(event);
    const received = await arrival(vault.events, event.user.user_id, 'the encrypted signup');
    assert.equal(received.event, 'user-signedUp');
    assert.deepEqual(received.data, buildPayload(event, Date.now())); // pusher-js decrypted exactly this
    // On the wire it was ciphertext: nothing of the user is readable without the key.
    const wire = vault.raw.filter((m) => m.event === 'user-signedUp');
    assert.ok(wire.length >= 1);
    for (const message of wire) {
      assert.deepEqual(Object.keys(message.data).sort(), ['ciphertext', 'nonce']);
      assert.ok(!JSON.stringify(message.data).includes(event.user.email));
      assert.ok(JSON.stringify(message.data).length < 10 * 1024);
    }
    // ... and nothing went to the plain channel.
    assert.deepEqual(ofUser(feed.events, event.user.user_id), []);
    assertNoSecretsLogged(logs);
  });

  test('with a master key, a plain configured channel is moved to its encrypted form (logged)', async (t) => {
    const logs = captureLogs(t);
    const event = fakeEvent(secretsFor(soketi.port, { PUSHER_CHANNEL: FEED_CHANNEL, PUSHER_ENCRYPTION_MASTER_KEY_BASE64: MASTER_KEY_BASE64 }));
    await runAction(event);
    await waitFor(() => ofUser(vault.events, event.user.user_id).length, 'the encrypted login');
    assert.match(logs.join('\n'), /publishing on private-encrypted-login-feed instead of private-login-feed/);
    assertNoSecretsLogged(logs);
  });

  test('a master key that is not 32 bytes of base64: nothing published, logged without the key', async (t) => {
    const logs = captureLogs(t);
    const badKey = Buffer.alloc(16, 7).toString('base64');
    const event = fakeEvent(secretsFor(soketi.port, { PUSHER_ENCRYPTION_MASTER_KEY_BASE64: badKey }));
    await runAction(event);
    assert.match(logs.join('\n'), /could not publish .*must decode to 32 bytes/);
    assertNoSecretsLogged(logs, badKey);
  });

  test('a wrong app secret (refused: 401) is logged without any secret', async (t) => {
    const logs = captureLogs(t);
    const wrong = 'wrong-secret-0123456789';
    const event = fakeEvent(secretsFor(soketi.port, { PUSHER_SECRET: wrong }));
    await runAction(event);
    // soketi 1.6.1 answers HTTP 200 with {"error": ..., "code": 401}; Pusher answers HTTP 401. Both are failures.
    assert.match(logs.join('\n'), /could not publish user-loggedIn on private-login-feed \((refused by the server: 401|HTTP 401) /);
    assertNoSecretsLogged(logs, wrong);
  });

  test('missing secrets: logged, nothing attempted', async (t) => {
    const trigger = t.mock.method(Pusher.prototype, 'trigger');
    const logs = captureLogs(t);
    await runAction(fakeEvent({ PUSHER_KEY: APP_KEY, PUSHER_SECRET: APP_SECRET }));
    await runAction({ user: { user_id: 'x' } }); // no secrets at all
    assert.equal(trigger.mock.callCount(), 0);
    assert.match(logs[0], /missing secret PUSHER_APP_ID, PUSHER_CLUSTER \(or PUSHER_HOST\)/);
    assertNoSecretsLogged(logs);
  });

  test('a closed port: the login goes on at once, the error is logged', async (t) => {
    const logs = captureLogs(t);
    const closed = await freePort();
    const elapsed = await runAction(fakeEvent(secretsFor(closed)));
    assert.ok(elapsed < 1000, `${elapsed} ms`);
    assert.match(logs.join('\n'), /could not publish user-loggedIn on private-login-feed \(request failed: ECONNREFUSED\)/);
    assertNoSecretsLogged(logs);
  });

  test('a server that accepts and never answers: the login goes on after the timeout', async (t) => {
    const logs = captureLogs(t);
    const sockets = new Set();
    const blackHole = net.createServer((socket) => { sockets.add(socket); socket.on('error', () => {}); });
    servers.push(blackHole);
    await new Promise((resolve) => { blackHole.listen(0, '127.0.0.1', resolve); });
    t.after(() => { for (const socket of sockets) socket.destroy(); });
    const elapsed = await runAction(fakeEvent(secretsFor(blackHole.address().port)));
    assert.ok(sockets.size >= 1, 'the Action did connect');
    assert.ok(elapsed >= constants.SDK_TIMEOUT_MS - 100, `gave up after ${elapsed} ms`);
    assert.match(logs.join('\n'), /could not publish .*timed out after \d+ ms/);
    assertNoSecretsLogged(logs);
  });

  test('a server that sends headers, then stalls the body: our own 3 s deadline ends the wait', async (t) => {
    // The SDK's `timeout` stops at the response headers (it clears its timer there), so only the Action's
    // Promise.race bounds the body read.
    const logs = captureLogs(t);
    const sockets = new Set();
    const staller = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{'));
    });
    servers.push(staller);
    await new Promise((resolve) => { staller.listen(0, '127.0.0.1', resolve); });
    t.after(() => { for (const socket of sockets) socket.destroy(); });
    const elapsed = await runAction(fakeEvent(secretsFor(staller.address().port)));
    assert.ok(elapsed >= constants.PUBLISH_TIMEOUT_MS - 100, `gave up after ${elapsed} ms`);
    assert.match(logs.join('\n'), new RegExp(`could not publish .*\\(timed out after ${constants.PUBLISH_TIMEOUT_MS} ms\\)`));
    assertNoSecretsLogged(logs);
  });

  test('soketi stopped: the login goes on, the error is logged', async (t) => {
    // Last: the shared server is stopped here (after() only cleans up).
    const logs = captureLogs(t);
    for (const client of clients) client.disconnect();
    await soketi.stop();
    const elapsed = await runAction(fakeEvent(secretsFor(soketi.port, { PUSHER_ENCRYPTION_MASTER_KEY_BASE64: MASTER_KEY_BASE64 }), { loginsCount: 1 }));
    assert.ok(elapsed < 1000, `${elapsed} ms`);
    assert.match(logs.join('\n'), /could not publish user-signedUp on private-encrypted-login-feed \(request failed: ECONNREFUSED\)/);
    assertNoSecretsLogged(logs);
  });
});
