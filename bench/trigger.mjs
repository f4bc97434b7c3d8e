// Burst sender for bench/burst.py: publishes realistic v1 login events to soketi with the npm `pusher` SDK.
//
//   node bench/trigger.mjs PORT COUNT RATE SIZE CHANNEL EVENT [--concurrency 16] [--batch 10]
//                          [--phase burst|warmup] [--workload v1|legacy] [--app-id 1] [--key app-key]
//                          [--secret app-secret]
//
// - COUNT events are sent with `triggerBatch` (/batch_events), BATCH events per request, at most CONCURRENCY
//   requests in flight over a keep-alive agent, paced so that event i is not sent before start + i / RATE.
//   A request that is due late is sent at once (no catch-up sleep), so RATE is the offered ceiling.
// - Every payload is a product.md "v1" login payload plus three bench fields:
//     bench_seq      0..COUNT-1 (to detect loss and reordering),
//     bench_phase    "warmup" on warm-up events only (the harness leaves them out of its figures),
//     bench_sent_ns  wall-clock time in ns when the request carrying the event was built, from
//                    performance.timeOrigin + performance.now() (sub-ms, same clock as Python's time.time()),
//   (`--workload legacy`: the original Auth0 rule's payload instead, the whole Auth0 user profile plus `country`,
//   ~330 bytes before the bench fields), and a `bench_pad` string that brings the JSON payload to SIZE bytes when the unpadded payload (~449 bytes)
//   is smaller (SIZE 0: never pad).
// - Prints one JSON summary line on stdout at the end: {"sent", "failed", "requests", "seconds", ...}.
//   Exit code 0 when every request succeeded, 1 when some failed, 2 on bad arguments.

import http from 'node:http';
import { performance } from 'node:perf_hooks';
import Pusher from 'pusher';

function usage(message) {
  process.stderr.write(`trigger.mjs: ${message}\n`);
  process.stderr.write('usage: node trigger.mjs PORT COUNT RATE SIZE CHANNEL EVENT [--concurrency N] [--batch N] '
    + '[--phase burst|warmup]\n');
  process.exit(2);
}

const positional = [];
const options = { concurrency: 16, batch: 10, phase: 'burst', workload: 'v1', 'app-id': '1', key: 'app-key', secret: 'app-secret' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 1) {
  const arg = argv[i];
  if (arg.startsWith('--')) {
    const name = arg.slice(2);
    if (!(name in options) || i + 1 >= argv.length) usage(`bad option ${arg}`);
    options[name] = argv[i + 1];
    i += 1;
  } else {
    positional.push(arg);
  }
}
if (positional.length !== 6) usage('expected 6 positional arguments');
const [port, count, rate, size] = positional.slice(0, 4).map(Number);
const [channel, eventName] = positional.slice(4);
const concurrency = Number(options.concurrency);
const batchSize = Number(options.batch);
if (![port, count, rate, concurrency, batchSize].every((n) => Number.isFinite(n) && n > 0) || !(size >= 0)) {
  usage('PORT, COUNT, RATE, SIZE, --concurrency and --batch must be positive numbers');
}
if (batchSize > 10) usage('--batch is at most 10 (Pusher and soketi limit)');
if (!['v1', 'legacy'].includes(options.workload)) usage('--workload is v1 or legacy');

// A keep-alive agent, as asked; note that soketi 1.6.1 ends every HTTP API response with `Connection: close`
// (uWS `res.end(body, true)`), so each request opens a new TCP connection anyway. `connections` counts them.
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
let connections = 0;
const createConnection = agent.createConnection.bind(agent);
agent.createConnection = (...args) => {
  connections += 1;
  return createConnection(...args);
};
const pusher = new Pusher({
  appId: options['app-id'],
  key: options.key,
  secret: options.secret,
  host: '127.0.0.1',
  port: String(port),
  useTLS: false,
  agent,
  timeout: 30000,
});

// ------------------------------------------------------------------ realistic v1 payloads

const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Alan', 'Radia'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen', 'Kay', 'Perlman'];
const PLACES = [['DE', 'Berlin'], ['FR', 'Lyon'], ['US', 'Austin'], ['JP', 'Osaka'],
  ['BR', 'Recife'], ['KE', 'Nairobi'], ['CA', 'Montreal'], ['IN', 'Pune']];
const CONNECTIONS = ['google-oauth2', 'github', 'email'];

function realisticPayload(seq, at) {
  const first = FIRST[seq % FIRST.length];
  const last = LAST[(seq >> 3) % LAST.length];
  const [country, city] = PLACES[seq % PLACES.length];
  const nickname = first.toLowerCase();
  return {
    v: 1,
    type: 'login',
    user_id: `auth0|${(0x64f000000000 + seq).toString(16)}`,
    email: `${nickname}${seq % 1000}@example.com`,
    name: `${first} ${last}`,
    nickname,
    picture: `https://s.gravatar.com/avatar/${((seq * 2654435761) >>> 0).toString(16).padStart(8, '0')}`,
    connection: CONNECTIONS[seq % CONNECTIONS.length],
    client_name: 'Help Desk',
    country,
    city,
    ip: `203.0.113.${seq % 250}`,
    logins_count: 2 + (seq % 500),
    at,
    updated_at: at,
    app_metadata: { signedUp: false },
  };
}

// The original rule (`pusher.trigger('auth0', 'user-loggedIn', user)` with `user.country` added): the whole
// Auth0 user object of a social login, as the rules runtime handed it over; ~330 bytes as JSON.
function legacyProfile(seq, at) {
  const first = FIRST[seq % FIRST.length];
  const last = LAST[(seq >> 3) % LAST.length];
  const nickname = first.toLowerCase();
  const id = String(10000000 + seq);
  const connection = CONNECTIONS[seq % 2];
  return {
    email: `${nickname}${seq % 1000}@example.com`,
    name: `${first} ${last}`,
    nickname,
    picture: `https://s.gravatar.com/avatar/${((seq * 2654435761) >>> 0).toString(16).padStart(8, '0')}`,
    identities: [{ provider: connection, user_id: id, connection }],
    user_id: `${connection}|${id}`,
    last_ip: `203.0.113.${seq % 250}`,
    last_login: at,
    logins_count: 2 + (seq % 500),
    country: PLACES[seq % PLACES.length][0],
  };
}

function nowNs() {
  // Wall clock with sub-ms resolution. A float above 2**53 ns: resolution ~0.25 us, plenty for ms latencies.
  // Always 19 digits for the next few centuries, so a payload's length does not depend on it.
  return Math.round((performance.timeOrigin + performance.now()) * 1e6);
}

// Every payload is serialised before the clock starts, up to its last field, so that the sender's per-event
// cost is one string concatenation: `${prefix}${nowNs()}}`. `at` (and the legacy `last_login`) is the burst's
// start time with milliseconds, as our Action (toISOString) and Auth0's profiles send them.
const startedAt = new Date().toISOString();
const NS_DIGITS = String(nowNs()).length;
const prefixes = new Array(count);
for (let seq = 0; seq < count; seq += 1) {
  const payload = options.workload === 'legacy' ? legacyProfile(seq, startedAt) : realisticPayload(seq, startedAt);
  payload.bench_seq = seq;
  if (options.phase !== 'burst') payload.bench_phase = options.phase;
  let prefix = JSON.stringify(payload).slice(0, -1);
  const length = prefix.length + ',"bench_sent_ns":'.length + NS_DIGITS + 1;
  const padded = ',"bench_pad":""'.length + length;
  if (padded <= size) prefix += `,"bench_pad":"${'x'.repeat(size - padded)}"`;
  prefixes[seq] = `${prefix},"bench_sent_ns":`;
}

function buildEvent(seq) {
  return { channel, name: eventName, data: `${prefixes[seq]}${nowNs()}}` };
}

// ------------------------------------------------------------------ paced sender

const sleep = (ms) => new Promise((resolve) => {
  if (ms >= 1) setTimeout(resolve, ms);
  else setImmediate(resolve);
});

const totalBatches = Math.ceil(count / batchSize);
let nextBatch = 0;
let sent = 0;
let failed = 0;
let requests = 0;
let lateRequests = 0;
let payloadBytes = 0;
const errors = [];
const t0 = performance.now();

async function worker() {
  while (nextBatch < totalBatches) {
    const index = nextBatch;
    nextBatch += 1;
    const firstSeq = index * batchSize;
    const due = t0 + (firstSeq * 1000) / rate;
    let wait = due - performance.now();
    while (wait > 0) {
      await sleep(wait);
      wait = due - performance.now();
    }
    if (wait < -5) lateRequests += 1;
    const batch = [];
    for (let seq = firstSeq; seq < Math.min(firstSeq + batchSize, count); seq += 1) {
      const event = buildEvent(seq);
      payloadBytes += event.data.length;
      batch.push(event);
    }
    requests += 1;
    try {
      const response = await pusher.triggerBatch(batch);
      await response.text();
      sent += batch.length;
    } catch (error) {
      failed += batch.length;
      if (errors.length < 5) errors.push(`${error.message} ${error.status ?? ''} ${error.body ?? ''}`.trim());
    }
  }
}

await Promise.all(Array.from({ length: Math.min(concurrency, totalBatches) }, worker));
const seconds = (performance.now() - t0) / 1000;
agent.destroy();
process.stdout.write(`${JSON.stringify({
  sent,
  failed,
  requests,
  seconds,
  achieved_rate: sent / seconds,
  offered_rate: rate,
  late_requests: lateRequests,
  mean_payload_bytes: count ? payloadBytes / count : 0,
  concurrency,
  batch: batchSize,
  phase: options.phase,
  connections,
  errors,
})}\n`);
process.exitCode = failed ? 1 : 0;
