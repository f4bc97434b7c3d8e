/**
 * Which post-login executions the feed hears of, and the Action as Auth0 really loads and logs it.
 *
 * Run from the repository root: `node --test resources/auth0/`. Events are shaped as Auth0 documents the
 * post-login event object (action-harness.js: `transaction.prompt`, `request.query.prompt`,
 * `authentication.methods[].timestamp`, `stats.logins_count`, `transaction.protocol`). The flows of a user who
 * just signed up (first login, repeat login, silent renewal, SSO into a second app, refresh token) go through
 * a real soketi to a pusher-js subscriber; a missing `pusher` dependency is reproduced in a child Node process
 * that cannot resolve the module, as in an Action whose dependency was not added in the editor.
 */
'use strict';

const { after, before, describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const Pusher = require('pusher');

const action = require('./login-feed-action.js');
const {
  FEED_CHANNEL, MINUTE_MS, SCENARIOS, BILLING,
  startSoketi, connectClient, subscribe, secretsFor, postLoginEvent, captureLogs,
  assertNoSecretsLogged, runAction, ofUser, arrival,
} = require('./action-harness.js');

const { classifyLogin, isFreshAuthentication, buildPayload, constants } = action;

const NOW = Date.UTC(2026, 11, 5, 10, 0, 0);
const ago = (ms) => new Date(NOW - ms).toISOString();
const withMethods = (...methods) => ({ stats: { logins_count: 1 }, authentication: { methods } });

// ------------------------------------------------------------------------------------------ pure parts

describe('isFreshAuthentication (the freshness rule)', () => {
  test('a first factor completed within FRESH_AUTH_MS is this login\'s own', () => {
    for (const name of ['pwd', 'federated', 'passkey', 'sms', 'email', 'https://example.com/custom-factor']) {
      assert.equal(isFreshAuthentication(withMethods({ name, timestamp: ago(2000) }), NOW), true, name);
    }
    assert.equal(isFreshAuthentication(withMethods({ name: 'pwd', timestamp: ago(constants.FRESH_AUTH_MS) }), NOW), true);
    assert.equal(isFreshAuthentication(withMethods({ name: 'pwd', timestamp: ago(constants.FRESH_AUTH_MS + 1) }), NOW), false);
    // Any ISO-8601 form Date.parse reads, offsets included.
    assert.equal(isFreshAuthentication(withMethods({ name: 'pwd', timestamp: '2026-12-05T10:59:59+01:00' }), NOW), true);
  });

  test('SSO reuses the session\'s older authentication: not fresh, even with a fresh step-up MFA on top', () => {
    assert.equal(isFreshAuthentication(withMethods({ name: 'pwd', timestamp: ago(20 * MINUTE_MS) }), NOW), false);
    const stepUp = withMethods({ name: 'pwd', timestamp: ago(20 * MINUTE_MS) }, { name: 'mfa', type: 'otp', timestamp: ago(1000) });
    assert.equal(isFreshAuthentication(stepUp, NOW), false);
    const loginWithMfa = withMethods({ name: 'pwd', timestamp: ago(9000) }, { name: 'mfa', type: 'otp', timestamp: ago(1000) });
    assert.equal(isFreshAuthentication(loginWithMfa, NOW), true);
  });

  test('clock skew: a little in the future is fresh, far in the future is not', () => {
    const soon = new Date(NOW + constants.CLOCK_SKEW_MS).toISOString();
    const later = new Date(NOW + constants.CLOCK_SKEW_MS + 1).toISOString();
    assert.equal(isFreshAuthentication(withMethods({ name: 'pwd', timestamp: soon }), NOW), true);
    assert.equal(isFreshAuthentication(withMethods({ name: 'pwd', timestamp: later }), NOW), false);
  });

  test('no methods, or none readable, is no evidence of a fresh authentication', () => {
    assert.equal(isFreshAuthentication({ stats: { logins_count: 1 } }, NOW), false);
    assert.equal(isFreshAuthentication(withMethods(), NOW), false);
    assert.equal(isFreshAuthentication(withMethods(null, 17, { name: 'pwd' }, { name: 'pwd', timestamp: 'just now' }), NOW), false);
    assert.equal(isFreshAuthentication(withMethods({ name: 'pwd', timestamp: NOW }), NOW), false); // documented as a string
    assert.equal(isFreshAuthentication({ authentication: { methods: 'pwd' } }, NOW), false);
    assert.equal(isFreshAuthentication(undefined, NOW), false);
  });
});

describe('classifyLogin', () => {
  const classify = (event) => classifyLogin(event, NOW);
  const kinds = { 'user-signedUp': 'signup', 'user-loggedIn': 'login' };

  test('the documented flows of a user who has just signed up', () => {
    const got = SCENARIOS.map(({ name, make }) => [name, classify(make({}, NOW))]);
    assert.deepEqual(got, [
      ['first login', 'signup'],
      ['repeat login', 'login'],
      ['silent renewal', 'silent'],
      ['SSO into a second app', 'login'],
      ['refresh token', 'refresh'],
    ]);
    for (const { name, expect, make } of SCENARIOS) {
      if (expect) assert.equal(buildPayload(make({}, NOW), NOW).type, kinds[expect], name);
    }
  });

  test('prompt=none is silent wherever Auth0 puts it, even seconds after the signup', () => {
    const fresh = { loginsCount: 1, now: NOW, methodAgoMs: 5000 };
    assert.equal(classify(postLoginEvent({}, fresh)), 'signup');
    assert.equal(classify(postLoginEvent({}, { ...fresh, prompt: 'none' })), 'silent');
    assert.equal(classify(postLoginEvent({}, { ...fresh, prompt: 'none', promptIn: 'transaction' })), 'silent');
    assert.equal(classify(postLoginEvent({}, { ...fresh, prompt: 'none', promptIn: 'query' })), 'silent');
    // Other prompts are people at a login page: a forced re-login is a login, a first one with consent a signup.
    assert.equal(classify(postLoginEvent({}, { ...fresh, loginsCount: 4, prompt: 'login' })), 'login');
    assert.equal(classify(postLoginEvent({}, { ...fresh, prompt: 'login consent', promptIn: 'query' })), 'signup');
  });

  test('a signup needs logins_count exactly 1 and a fresh first factor', () => {
    assert.equal(classify(postLoginEvent({}, { loginsCount: 1, now: NOW, methods: [] })), 'login');
    assert.equal(classify(postLoginEvent({}, { loginsCount: '1', now: NOW })), 'login');
    assert.equal(classify(postLoginEvent({}, { loginsCount: 2, now: NOW })), 'login');
    assert.equal(classify(postLoginEvent({}, { loginsCount: 1, now: NOW, protocol: 'oauth2-device-code' })), 'signup');
    assert.equal(classify(postLoginEvent({}, { loginsCount: 1, now: NOW, protocol: 'oauth2-refresh-token' })), 'refresh');
    assert.equal(classify(undefined), 'login');
  });

  test('SSO into a second app: a login with the unchanged count, at the time the Action ran', () => {
    const event = postLoginEvent({}, { loginsCount: 1, now: NOW, methodAgoMs: 20 * MINUTE_MS, client: BILLING });
    const payload = buildPayload(event, NOW);
    assert.equal(payload.type, 'login');
    assert.equal(payload.logins_count, 1);
    assert.equal(payload.client_name, 'Billing');
    assert.deepEqual(payload.app_metadata, { signedUp: false });
    assert.equal(payload.at, new Date(NOW).toISOString());
  });
});

// ------------------------------------------------------------------------------------------ against soketi

describe('the flows of a new user, through a real soketi', () => {
  let soketi;
  let feed;
  let client;
  const servers = [];

  before(async () => {
    soketi = await startSoketi();
    ({ client } = await connectClient(soketi.port));
    feed = await subscribe(client, FEED_CHANNEL);
  });

  after(async () => {
    if (client) client.disconnect();
    for (const server of servers) await new Promise((resolve) => { server.close(resolve); });
    if (soketi) await soketi.close();
  });

  test('first login, repeat login, silent renewal, SSO into a second app, refresh token', async (t) => {
    const trigger = t.mock.method(Pusher.prototype, 'trigger');
    const logs = captureLogs(t);
    const runs = [];
    for (const scenario of SCENARIOS) {
      const event = scenario.make(secretsFor(soketi.port));
      const elapsed = await runAction(event);
      runs.push({ ...scenario, event });
      t.diagnostic(`${scenario.name}: ${elapsed.toFixed(0)} ms`);
    }
    // soketi delivers one channel's events in order on a connection, and every trigger above was awaited:
    // once this marker has arrived, anything the skipped flows had published would already be here.
    const marker = postLoginEvent(secretsFor(soketi.port));
    await runAction(marker);
    await arrival(feed, marker.user.user_id, 'the marker login');

    for (const { name, expect, event } of runs) {
      const got = ofUser(feed, event.user.user_id);
      if (expect === null) {
        assert.deepEqual(got, [], `${name}: nothing for the feed`);
        continue;
      }
      assert.equal(got.length, 1, name);
      assert.equal(got[0].event, expect, name);
      assert.equal(got[0].data.type, expect === 'user-signedUp' ? 'signup' : 'login', name);
      assert.equal(got[0].data.logins_count, event.stats.logins_count, name);
    }
    const published = runs.filter((run) => run.expect).length;
    assert.equal(trigger.mock.callCount(), published + 1, 'no request at all for the skipped flows');
    assert.equal(logs.length, published + 1, `one line per published event, none for the skipped ones:\n${logs.join('\n')}`);
    assertNoSecretsLogged(logs);
  });

  test('plain HTTP to anything but a loopback host is refused: one line, no request', async (t) => {
    const trigger = t.mock.method(Pusher.prototype, 'trigger');
    const logs = captureLogs(t);
    const hosts = ['pusher.internal.example', '10.0.0.5', '127.0.0.1.example.com', '192.168.1.20'];
    for (const host of hosts) {
      await runAction(postLoginEvent(secretsFor(soketi.port, { PUSHER_HOST: host }), { loginsCount: 1 }));
    }
    const cluster = secretsFor(soketi.port, { PUSHER_HOST: '' }); // Pusher's own cluster, without TLS
    await runAction(postLoginEvent(cluster, { loginsCount: 1 }));
    assert.equal(trigger.mock.callCount(), 0);
    assert.equal(logs.length, hosts.length + 1);
    for (const line of logs) {
      assert.equal(line, 'login-feed: PUSHER_USE_TLS=false is allowed only with a loopback PUSHER_HOST (local tests); nothing published');
    }
  });

  test('log lines stay within Auth0\'s 256 characters, the reason first', async (t) => {
    // A real HTTP server that refuses every publish with a long answer, and the longest valid channel name.
    const server = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(400, { 'Content-Type': 'text/plain' }).end(`Bad request: ${'x'.repeat(600)}`));
    });
    servers.push(server);
    await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
    const logs = captureLogs(t);
    const channel = `private-${'c'.repeat(192)}`;
    await runAction(postLoginEvent(secretsFor(server.address().port, { PUSHER_CHANNEL: channel }), { loginsCount: 1 }));
    assert.equal(logs.length, 1);
    const [line] = logs;
    t.diagnostic(`${line.length} characters`);
    assert.ok(line.length <= constants.MAX_LOG_CHARS, `${line.length} characters`);
    assert.match(line, /^login-feed: could not publish user-signedUp after \d+ ms, the login goes on: HTTP 400 Bad request: x+/);
    assert.ok(line.endsWith('\u2026'));
  });
});

// ------------------------------------------------------------------------------------------ the dependency

/** The Action, alone in a temporary directory, run in a child Node process on one first-login event, twice. */
async function runIsolated(t, setUp) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'login-feed-action-nodeps-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.copyFileSync(path.join(__dirname, 'login-feed-action.js'), path.join(dir, 'login-feed-action.js'));
  setUp(dir);
  const event = postLoginEvent(secretsFor(1), { loginsCount: 1 });
  fs.writeFileSync(path.join(dir, 'event.json'), JSON.stringify(event));
  fs.writeFileSync(path.join(dir, 'run.js'), `'use strict';
const lines = [];
console.log = (...args) => { lines.push(args.map(String).join(' ')); };
const apiCalls = [];
const api = new Proxy({}, { get: (_, name) => new Proxy({}, { get: (__, method) => () => { apiCalls.push(name + '.' + String(method)); } }) });
(async () => {
  const outcomes = [];
  let action;
  try {
    action = require('./login-feed-action.js');
  } catch (err) {
    outcomes.push('threw at load: ' + (err && err.message).split('\\n')[0]);
  }
  const event = JSON.parse(require('node:fs').readFileSync(require('node:path').join(__dirname, 'event.json'), 'utf8'));
  for (let i = 0; action && i < 2; i += 1) {
    try {
      outcomes.push((await action.onExecutePostLogin(event, api)) === undefined ? 'resolved' : 'resolved with a value');
    } catch (err) {
      outcomes.push('threw: ' + (err && err.message).split('\\n')[0]);
    }
  }
  process.stdout.write(JSON.stringify({ outcomes, lines, apiCalls }));
})();
`);
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_PATH' && name !== 'NODE_OPTIONS'));
  const stdout = await new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(dir, 'run.js')], { cwd: dir, env, timeout: 30000 }, (err, out, errOut) => {
      if (err) reject(new Error(`${err.message}\n${errOut}`));
      else resolve(out);
    });
  });
  return JSON.parse(stdout);
}

describe('the pusher dependency, loaded inside the guard', () => {
  test('missing (not added, or misspelled, in the editor): every login goes on, one clear line each', async (t) => {
    const result = await runIsolated(t, (dir) => {
      assert.throws(() => require.resolve('pusher', { paths: [dir] }), /Cannot find module/, 'precondition: unresolvable');
    });
    assert.deepEqual(result.outcomes, ['resolved', 'resolved']);
    assert.deepEqual(result.apiCalls, []);
    assert.equal(result.lines.length, 2, result.lines.join('\n'));
    for (const line of result.lines) {
      assert.equal(line, `login-feed: dependency "pusher" cannot be loaded (MODULE_NOT_FOUND); add pusher@${constants.PUSHER_VERSION} under Dependencies in the Actions editor; nothing published`);
      assert.ok(line.length <= constants.MAX_LOG_CHARS);
    }
  });

  test('present but failing to load: the same, with the reason', async (t) => {
    const result = await runIsolated(t, (dir) => {
      const pkg = path.join(dir, 'node_modules', 'pusher');
      fs.mkdirSync(pkg, { recursive: true });
      fs.writeFileSync(path.join(pkg, 'package.json'), '{"name": "pusher", "version": "0.0.0-broken", "main": "index.js"}');
      fs.writeFileSync(path.join(pkg, 'index.js'), "throw new TypeError('this runtime is not supported\\n  at line 2');");
    });
    assert.deepEqual(result.outcomes, ['resolved', 'resolved']);
    assert.equal(result.lines.length, 2, result.lines.join('\n'));
    assert.match(result.lines[0], /^login-feed: dependency "pusher" cannot be loaded \(TypeError: this runtime is not supported\); add pusher@/);
  });

});
