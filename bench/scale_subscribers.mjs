// Many headless pusher-js 8.6 subscribers in one Node process, for bench/scale.py.
//
//   node bench/scale_subscribers.mjs PORT COUNT CURSOR_BASE [CHANNEL] [EVENT]
//
// Opens COUNT pusher-js connections to the soketi on PORT, each subscribed to CHANNEL (default private-login-feed,
// signed locally with the app secret, as an auth endpoint would answer) and bound to EVENT (default log-event).
// Prints `SUBSCRIBED n` on stderr once all n subscriptions succeeded, then `RECEIVED total` every 0.5 s. Per event it keeps only numbers, so 200
// clients x 30,000 events fit: which cursors each client got (one byte per cursor above CURSOR_BASE, counting
// repeats) and a 1 ms latency histogram, the latency being now minus the event's `at` (the harness stamps Auth0's
// `date` just before its POST; same machine, same clock).
//
// On SIGTERM / SIGINT (or a line "report" on stdin) it prints one JSON line on stdout and exits:
// {"clients", "received", "unique", "repeats", "per_client_min", "per_client_max", "latency_ms": {p50, p99, max},
//  "reconnects"}.

import crypto from 'node:crypto';
import readline from 'node:readline';
import Pusher from 'pusher-js';

const [port, count, cursorBase] = process.argv.slice(2, 5).map(Number);
const channelName = process.argv[5] || 'private-login-feed';
const eventName = process.argv[6] || 'log-event';
const key = process.env.BENCH_APP_KEY || 'app-key';
const secret = process.env.BENCH_APP_SECRET || 'app-secret';
if (!(port > 0 && count > 0 && cursorBase >= 0)) {
  process.stderr.write('usage: node scale_subscribers.mjs PORT COUNT CURSOR_BASE [CHANNEL] [EVENT]\n');
  process.exit(2);
}

const HISTOGRAM_MS = 120_000;
const histogram = new Uint32Array(HISTOGRAM_MS + 1);
let worst = 0;
let received = 0;
let reconnects = 0;
let subscribed = 0;

function authorize({ socketId, channelName: name }, callback) {
  const signature = crypto.createHmac('sha256', secret).update(`${socketId}:${name}`).digest('hex');
  callback(null, { auth: `${key}:${signature}` });
}

const clients = [];
for (let i = 0; i < count; i += 1) {
  const state = { seen: new Uint8Array(65536), connectedOnce: false };
  const pusher = new Pusher(key, {
    wsHost: '127.0.0.1', wsPort: port, forceTLS: false, enabledTransports: ['ws'], cluster: 'mt1',
    channelAuthorization: { customHandler: authorize },
  });
  const channel = pusher.subscribe(channelName);
  channel.bind('pusher:subscription_succeeded', () => {
    if (!state.subscribedOnce) {
      state.subscribedOnce = true;
      subscribed += 1;
      if (subscribed === count) process.stderr.write(`SUBSCRIBED ${subscribed}\n`);
    }
  });
  channel.bind('pusher:subscription_error', (status) => {
    process.stderr.write(`subscription error: ${JSON.stringify(status)}\n`);
  });
  pusher.connection.bind('state_change', ({ current }) => {
    if (current === 'connected') {
      if (state.connectedOnce) reconnects += 1;
      state.connectedOnce = true;
    }
  });
  channel.bind(eventName, (data) => {
    if (data.kind === 'alert') return; // the server's own alerts on the same stream: not the stream measured
    const now = Date.now();
    received += 1;
    const index = Number(data.cursor) - cursorBase;
    if (index >= 0) {
      if (index >= state.seen.length) {
        let size = state.seen.length;
        while (size <= index) size *= 2;
        const grown = new Uint8Array(size);
        grown.set(state.seen);
        state.seen = grown;
      }
      if (state.seen[index] < 255) state.seen[index] += 1;
    }
    const delay = Math.max(0, now - Date.parse(data.at));
    histogram[Math.min(HISTOGRAM_MS, delay)] += 1;
    if (delay > worst) worst = delay;
  });
  clients.push({ pusher, state });
}

function percentile(fraction) {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (!total) return null;
  const target = Math.ceil(total * fraction);
  let running = 0;
  for (let ms = 0; ms <= HISTOGRAM_MS; ms += 1) {
    running += histogram[ms];
    if (running >= target) return ms;
  }
  return HISTOGRAM_MS;
}

let reported = false;
function report() {
  if (reported) return;
  reported = true;
  let unique = 0;
  let repeats = 0;
  let low = Infinity;
  let high = 0;
  for (const { pusher, state } of clients) {
    let mine = 0;
    for (const n of state.seen) {
      if (n) { mine += 1; repeats += n - 1; }
    }
    unique += mine;
    low = Math.min(low, mine);
    high = Math.max(high, mine);
    pusher.disconnect();
  }
  process.stdout.write(`${JSON.stringify({
    clients: count, received, unique, repeats, per_client_min: low, per_client_max: high, reconnects,
    latency_ms: { p50: percentile(0.5), p99: percentile(0.99), max: worst },
  })}\n`);
  process.exit(0);
}
setInterval(() => process.stderr.write(`RECEIVED ${received}\n`), 500).unref();
process.on('SIGTERM', report);
process.on('SIGINT', report);
readline.createInterface({ input: process.stdin }).on('line', (line) => { if (line.trim() === 'report') report(); });
