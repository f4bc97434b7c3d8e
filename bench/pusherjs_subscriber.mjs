// pusher-js 8.6 (the reference client) subscriber for bench/burst.py.
//
//   node bench/pusherjs_subscriber.mjs PORT [CHANNEL] [EVENT]
//
// Subscribes to CHANNEL (default private-login-feed; private channels are signed locally with a
// channelAuthorization.customHandler, exactly what an auth endpoint would answer), prints `SUBSCRIBED` on
// stderr once pusher:subscription_succeeded arrives, and one line per EVENT (default user-loggedIn) on stdout:
// JSON.stringify(data), `data` being what pusher-js hands to the callback (it JSON-decodes the payload).
//
// Output: lines are collected and written with one process.stdout.write per turn of the event loop
// (setImmediate), i.e. after the frames that arrived together have been dispatched. That is prompt (no timer)
// and avoids one write(2) per event; process.stdout on a pipe is synchronous on Linux.
// SIGTERM / SIGINT: flush, disconnect, exit 0.

import crypto from 'node:crypto';
import Pusher from 'pusher-js';

const port = Number(process.argv[2]);
const channelName = process.argv[3] || 'private-login-feed';
const eventName = process.argv[4] || 'user-loggedIn';
const key = process.env.BENCH_APP_KEY || 'app-key';
const secret = process.env.BENCH_APP_SECRET || 'app-secret';
if (!Number.isFinite(port) || port <= 0) {
  process.stderr.write('usage: node pusherjs_subscriber.mjs PORT [CHANNEL] [EVENT]\n');
  process.exit(2);
}

const pusher = new Pusher(key, {
  wsHost: '127.0.0.1',
  wsPort: port,
  forceTLS: false,
  enabledTransports: ['ws'],
  cluster: 'mt1',
  channelAuthorization: {
    customHandler: ({ socketId, channelName: name }, callback) => {
      const signature = crypto.createHmac('sha256', secret).update(`${socketId}:${name}`).digest('hex');
      callback(null, { auth: `${key}:${signature}` });
    },
  },
});

let pending = [];
let flushScheduled = false;
function flush() {
  flushScheduled = false;
  if (pending.length) {
    const chunk = pending.join('');
    pending = [];
    process.stdout.write(chunk);
  }
}

const channel = pusher.subscribe(channelName);
channel.bind('pusher:subscription_succeeded', () => process.stderr.write('SUBSCRIBED\n'));
channel.bind('pusher:subscription_error', (status) => {
  process.stderr.write(`subscription error: ${JSON.stringify(status)}\n`);
  process.exit(1);
});
channel.bind(eventName, (data) => {
  pending.push(`${JSON.stringify(data)}\n`);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
});
pusher.connection.bind('state_change', ({ previous, current }) => {
  process.stderr.write(`state ${previous} -> ${current}\n`);
});

function stop() {
  flush();
  pusher.disconnect();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
