/**
 * Tests of the Login Feed post-login Action against a real soketi (a Pusher-protocol server).
 *
 * Run from the repository root: `node --test resources/auth0/` (needs `npm install` at the root for soketi,
 * pusher and pusher-js). One soketi is started on free loopback ports in `before` and stopped in `after` (the
 * last test also stops it, to publish at a server that has gone away). A pusher-js client subscribes the way
 * a feed page would; `onExecutePostLogin` runs with a post-login event shaped as Auth0 documents it and a fake
 * `api` that records any call (action-harness.js). Signups, silent renewals, SSO and a missing dependency have
 * their own file, login-feed-signups.test.js.
 */
'use strict';

const { after, before, describe, test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');

const Pusher = require('pusher');

const action = require('./login-feed-action.js');
const {
  APP_KEY, APP_SECRET, MASTER_KEY_BASE64, FEED_CHANNEL, ENCRYPTED_CHANNEL,
  sleep, waitFor, freePort, startSoketi, connectClient, subscribe, secretsFor, postLoginEvent,
  captureLogs, assertNoSecretsLogged, runAction, ofUser, arrival,
} = require('./action-harness.js');

const { buildPayload, resolveChannel, constants } = action;

// ------------------------------------------------------------------------------------------ pure parts

describe('buildPayload', () => {
  test('a login: the v1 fields, from event.user / connection / client / request / stats', () => {
    const at = '2026-11-21T09:59:58.000Z';
    const event = postLoginEvent({}, { loginsCount: 42 });
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
    const now = Date.now();
    const signup = buildPayload(postLoginEvent({}, { loginsCount: 1, now }), now);
    assert.equal(signup.type, 'signup');
    assert.deepEqual(signup.app_metadata, { signedUp: true });
    for (const loginsCount of [0, 2, '1', null, undefined, 1.5, -1]) {
      const payload = buildPayload(postLoginEvent({}, { loginsCount, now }), now);
      assert.equal(payload.type, 'login', `logins_count ${loginsCount}`);
      assert.deepEqual(payload.app_metadata, { signedUp: false });
    }
  });

  test('`at` is the fresh authentication time, else now (SSO reuses an old one); always UTC ISO-8601', () => {
    const now = new Date('2026-11-21T10:00:00.000Z');
    const fresh = postLoginEvent({});
    fresh.authentication.methods = [{ name: 'pwd', timestamp: '2026-11-21T10:59:59+01:00' }];
    assert.equal(buildPayload(fresh, now).at, '2026-11-21T09:59:59.000Z');
    const sso = postLoginEvent({});
    sso.authentication.methods = [{ name: 'pwd', timestamp: '2026-11-20T08:00:00.000Z' }];
    assert.equal(buildPayload(sso, now).at, '2026-11-21T10:00:00.000Z');
    const none = postLoginEvent({});
    delete none.authentication;
    assert.equal(buildPayload(none, now).at, '2026-11-21T10:00:00.000Z');
    const garbage = postLoginEvent({});
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
    const event = postLoginEvent({}, { user: { name: '\u{1F600}'.repeat(300), nickname: 'a\ud800b', picture: `https://x/${'p'.repeat(5000)}` } });
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
      authentication: { methods: [{ name: 'pwd', timestamp: new Date(0).toISOString() }] },
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
    const event = postLoginEvent(secretsFor(soketi.port), { loginsCount: 5 });
    await runAction(event);
    const received = await arrival(feed.events, event.user.user_id, 'the login');
    assert.equal(received.event, 'user-loggedIn');
    assert.deepEqual(received.data, buildPayload(event, Date.now()));
    assert.equal(received.data.type, 'login');
    assert.equal(received.data.logins_count, 5);
    assert.deepEqual(received.data.app_metadata, { signedUp: false }); // not the user's own app_metadata
    assert.match(logs.join('\n'), /^login-feed: published user-loggedIn in \d+ ms \(channel private-login-feed\)$/m);
    assert.ok(!logs.join('\n').includes(event.user.email), 'no personal data in the log');
    assertNoSecretsLogged(logs);
  });

  test('logins_count 1 arrives as user-signedUp, type signup, app_metadata.signedUp true', async () => {
    const event = postLoginEvent(secretsFor(soketi.port), { loginsCount: 1 });
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
    const skipped = postLoginEvent(secretsFor(soketi.port), { protocol: 'oauth2-refresh-token' });
    const elapsed = await runAction(skipped);
    assert.equal(trigger.mock.callCount(), 0, 'no request to Pusher at all');
    t.diagnostic(`skipped in ${elapsed.toFixed(1)} ms`);
    assert.deepEqual(logs, []);
    // The wire agrees. Had the skipped event been published, its (awaited) trigger would have reached
    // soketi before the marker's, and soketi delivers one channel's events in order on a connection: once
    // the marker is here, the skipped one can no longer be on its way. The extra 300 ms only covers a
    // hypothetical reordering; the decisive check is the trigger count above.
    const marker = postLoginEvent(secretsFor(soketi.port));
    await runAction(marker);
    await waitFor(() => ofUser(feed.events, marker.user.user_id).length, 'the marker login');
    await sleep(300);
    assert.deepEqual(ofUser(feed.events, skipped.user.user_id), []);
  });

  test('a huge profile (1 MB name and picture) is published, under 4 KB', async () => {
    const event = postLoginEvent(secretsFor(soketi.port), {
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
    const event = postLoginEvent(secretsFor(soketi.port, { PUSHER_ENCRYPTION_MASTER_KEY_BASE64: MASTER_KEY_BASE64 }), { loginsCount: 1 });
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
    const event = postLoginEvent(secretsFor(soketi.port, { PUSHER_CHANNEL: FEED_CHANNEL, PUSHER_ENCRYPTION_MASTER_KEY_BASE64: MASTER_KEY_BASE64 }));
    await runAction(event);
    await waitFor(() => ofUser(vault.events, event.user.user_id).length, 'the encrypted login');
    assert.match(logs.join('\n'), /publishing on private-encrypted-login-feed instead of private-login-feed/);
    assertNoSecretsLogged(logs);
  });

  test('a master key that is not 32 bytes of base64: nothing published, logged without the key', async (t) => {
    const logs = captureLogs(t);
    const badKey = Buffer.alloc(16, 7).toString('base64');
    const event = postLoginEvent(secretsFor(soketi.port, { PUSHER_ENCRYPTION_MASTER_KEY_BASE64: badKey }));
    await runAction(event);
    assert.match(logs.join('\n'), /could not publish .*must decode to 32 bytes/);
    assertNoSecretsLogged(logs, badKey);
  });

  test('a wrong app secret (refused: 401) is logged without any secret', async (t) => {
    const logs = captureLogs(t);
    const wrong = 'wrong-secret-0123456789';
    const event = postLoginEvent(secretsFor(soketi.port, { PUSHER_SECRET: wrong }));
    await runAction(event);
    // soketi 1.6.1 answers HTTP 200 with {"error": ..., "code": 401}; Pusher answers HTTP 401. Both are failures.
    assert.match(logs.join('\n'), /^login-feed: could not publish user-loggedIn after \d+ ms, the login goes on: (refused by the server: 401|HTTP 401) .*\(channel private-login-feed\)$/m);
    assertNoSecretsLogged(logs, wrong);
  });

  test('missing secrets: logged, nothing attempted', async (t) => {
    const trigger = t.mock.method(Pusher.prototype, 'trigger');
    const logs = captureLogs(t);
    await runAction(postLoginEvent({ PUSHER_KEY: APP_KEY, PUSHER_SECRET: APP_SECRET }));
    await runAction({ user: { user_id: 'x' } }); // no secrets at all
    assert.equal(trigger.mock.callCount(), 0);
    assert.match(logs[0], /missing secret PUSHER_APP_ID, PUSHER_CLUSTER \(or PUSHER_HOST\)/);
    assertNoSecretsLogged(logs);
  });

  test('a closed port: the login goes on at once, the error is logged', async (t) => {
    const logs = captureLogs(t);
    const closed = await freePort();
    const elapsed = await runAction(postLoginEvent(secretsFor(closed)));
    t.diagnostic(`gave up after ${elapsed.toFixed(0)} ms`);
    assert.match(logs.join('\n'), /could not publish user-loggedIn after \d+ ms, the login goes on: request failed: ECONNREFUSED \(channel private-login-feed\)/);
    assertNoSecretsLogged(logs);
  });

  test('a server that accepts and never answers: the login goes on after the timeout', async (t) => {
    const logs = captureLogs(t);
    const sockets = new Set();
    const blackHole = net.createServer((socket) => { sockets.add(socket); socket.on('error', () => {}); });
    servers.push(blackHole);
    await new Promise((resolve) => { blackHole.listen(0, '127.0.0.1', resolve); });
    t.after(() => { for (const socket of sockets) socket.destroy(); });
    const elapsed = await runAction(postLoginEvent(secretsFor(blackHole.address().port)));
    assert.ok(sockets.size >= 1, 'the Action did connect');
    assert.ok(elapsed >= constants.SDK_TIMEOUT_MS - 100, `gave up after ${elapsed} ms`);
    assert.match(logs.join('\n'), /could not publish user-loggedIn after \d+ ms, the login goes on: request timed out after \d+ ms/);
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
    const elapsed = await runAction(postLoginEvent(secretsFor(staller.address().port)));
    assert.ok(elapsed >= constants.PUBLISH_TIMEOUT_MS - 100, `gave up after ${elapsed} ms`);
    assert.match(logs.join('\n'), new RegExp(`could not publish user-loggedIn after \\d+ ms, the login goes on: timed out after ${constants.PUBLISH_TIMEOUT_MS} ms `));
    assertNoSecretsLogged(logs);
  });

  test('soketi stopped: the login goes on, the error is logged', async (t) => {
    // Last: the shared server is stopped here (after() only cleans up).
    const logs = captureLogs(t);
    for (const client of clients) client.disconnect();
    await soketi.stop();
    const elapsed = await runAction(postLoginEvent(secretsFor(soketi.port, { PUSHER_ENCRYPTION_MASTER_KEY_BASE64: MASTER_KEY_BASE64 }), { loginsCount: 1 }));
    t.diagnostic(`gave up after ${elapsed.toFixed(0)} ms`);
    assert.match(logs.join('\n'), /could not publish user-signedUp after \d+ ms, the login goes on: request failed: ECONNREFUSED \(channel private-encrypted-login-feed\)/);
    assertNoSecretsLogged(logs);
  });
});
