#!/usr/bin/env node
/**
 * Run the Login Feed Action on fake post-login events, for the contract test
 * (tests/integration/test_action_contract.py) and for trying the Action by hand against a local soketi.
 *
 * Input (stdin, JSON): {"secrets": {PUSHER_*...}, "events": [<post-login event without secrets>, ...]}.
 * Each event gets `secrets`, then `onExecutePostLogin(event, api)` runs with an `api` that records calls.
 * Output (stdout): the Action's own log lines (`login-feed: ...`), plus one line per event starting with
 * `@@contract ` and a JSON object: {"index", "expected": buildPayload(event), "sent": [{channel, event,
 * data}] (what the Action handed to pusher.trigger), "elapsed_ms", "api_calls"}; then `@@contract
 * {"done": true, ...}`. Exit status 0 unless the Action threw (it never should) or the input is bad.
 *
 *   echo '{"secrets": {...}, "events": [{"user": {"user_id": "auth0|1"}, "stats": {"logins_count": 7}}]}' \
 *     | node resources/auth0/contract-publish.js
 *
 * (A signup also needs a fresh `authentication.methods[].timestamp`: see README.md, Signups and Testing.)
 */
'use strict';

const Pusher = require('pusher');
const action = require('./login-feed-action.js');

const MARK = '@@contract ';
/** After the work is done, handles a stalled request may leave open must not keep this process alive. */
const EXIT_GRACE_MS = 500;

function emit(object) {
  process.stdout.write(`${MARK}${JSON.stringify(object)}\n`);
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (chunk) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function recordingApi() {
  const calls = [];
  const namespace = (name) => new Proxy({}, {
    get: (_, method) => () => { calls.push(`${name}.${String(method)}`); },
  });
  return { api: new Proxy({}, { get: (_, name) => namespace(String(name)) }), calls };
}

async function main() {
  const input = JSON.parse(await readStdin());
  const secrets = input.secrets || {};
  const events = Array.isArray(input.events) ? input.events : [];

  // Record what the Action hands to the SDK (the exact object it publishes), then let the SDK send it.
  let sent = [];
  const trigger = Pusher.prototype.trigger;
  Pusher.prototype.trigger = function recordTrigger(channel, eventName, data, params) {
    sent.push({ channel, event: eventName, data: JSON.parse(JSON.stringify(data)) });
    return trigger.call(this, channel, eventName, data, params);
  };

  let failures = 0;
  const started = Date.now();
  for (const [index, raw] of events.entries()) {
    const event = { ...raw, secrets };
    const { api, calls } = recordingApi();
    sent = [];
    const t0 = Date.now();
    try {
      await action.onExecutePostLogin(event, api);
    } catch (err) {
      failures += 1;
      process.stderr.write(`the Action threw (it must never): ${err && err.stack}\n`);
    }
    const elapsed = Date.now() - t0;
    emit({ index, expected: action.buildPayload(event, Date.now()), sent, elapsed_ms: elapsed, api_calls: calls });
  }
  emit({ done: true, count: events.length, failures, elapsed_ms: Date.now() - started });
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  },
  (err) => {
    process.stderr.write(`contract-publish: ${err && err.message}\n`);
    process.exit(2);
  },
);
