/**
 * Login Feed: an Auth0 post-login Action that publishes every signup and login to Pusher.
 *
 * Trigger: Login / post-login. Dependency (added in the Actions editor, not in a package.json): pusher@5.3.4.
 * Secrets: PUSHER_APP_ID, PUSHER_KEY, PUSHER_SECRET, PUSHER_CLUSTER (or PUSHER_HOST, with optional
 * PUSHER_PORT, for a self-hosted Pusher-protocol server such as soketi), optional PUSHER_CHANNEL (default
 * `private-login-feed`) and optional PUSHER_ENCRYPTION_MASTER_KEY_BASE64 (32 bytes, base64: the event is then
 * end-to-end encrypted on a `private-encrypted-` channel). PUSHER_USE_TLS=false is honoured only for a loopback
 * PUSHER_HOST (a local test set-up): Actions run on Auth0's public infrastructure.
 * See README.md next to this file for the deployment steps and the event contract.
 *
 * Guarantees:
 * - It never fails, denies or noticeably slows a login: the whole publish is bounded by PUBLISH_TIMEOUT_MS
 *   (3 s; the SDK's own request timeout is a little shorter), every error is caught and logged with
 *   console.log, and `api` is never touched (no api.access.deny). The `pusher` dependency is loaded inside
 *   that guard (never at module level), so a dependency missing in the editor costs one log line, not the login.
 * - Only people logging in are announced (see classifyLogin): refresh-token exchanges and silent authentication
 *   (`prompt=none`) publish nothing; `user-signedUp` needs logins_count 1 *and* a fresh first factor, so SSO
 *   into a second application is a login, never a second signup.
 * - The payload (v1, see buildPayload) is at most MAX_PAYLOAD_BYTES (4 KB) of JSON whatever the profile
 *   holds, far below Pusher's 10 KB limit even after encryption (base64 adds a third: < 5.6 KB).
 * - Log lines are at most MAX_LOG_CHARS (Auth0 keeps 256 characters of a console.log), what matters first, and
 *   carry no secret, no signature and no personal data (event name, channel and the reason only).
 */
'use strict';

const PUBLISH_TIMEOUT_MS = 3000;
/** The SDK aborts its HTTP request first, so the socket is released before our own deadline fires. */
const SDK_TIMEOUT_MS = 2500;
const MAX_PAYLOAD_BYTES = 4096;
const DEFAULT_CHANNEL = 'private-login-feed';
const DEFAULT_ENCRYPTED_CHANNEL = 'private-encrypted-login-feed';
const ENCRYPTED_PREFIX = 'private-encrypted-';
const EVENT_SIGNUP = 'user-signedUp';
const EVENT_LOGIN = 'user-loggedIn';
/** The channel names Pusher accepts (the SDK's own check). */
const CHANNEL_NAME = /^[A-Za-z0-9_\-=@,.;]{1,200}$/;
/**
 * An authentication method completed this recently belongs to this transaction; an older one is the session's,
 * reused by SSO. Short, because SSO into a second application minutes after a signup must not be a signup.
 */
const FRESH_AUTH_MS = 60 * 1000;
const CLOCK_SKEW_MS = 30 * 1000;
const MAX_METHODS = 32;
/** Auth0 keeps the first 256 characters of each console.log of an Action. */
const MAX_LOG_CHARS = 256;
const MAX_REASON_CHARS = 160;
const PUSHER_VERSION = '5.3.4';

const MAX_CHARS = 256;
const MAX_PICTURE_CHARS = 512;
const MAX_IP_CHARS = 64;
const ELLIPSIS = '\u2026';
/** Emptied one by one, in this order, while the serialized payload is over MAX_PAYLOAD_BYTES. */
const OPTIONAL_FIELDS = [
  'picture', 'nickname', 'updated_at', 'city', 'client_name', 'connection', 'ip', 'country', 'name',
];
const LOG_PREFIX = 'login-feed:';

/**
 * A string field as it goes into the payload: null unless a non-empty string; at most `max` UTF-16 units
 * (cut ones end with an ellipsis, never in the middle of a surrogate pair); lone surrogates become U+FFFD
 * (they are not valid UTF-8, and strict JSON decoders reject them).
 */
function clip(value, max = MAX_CHARS) {
  if (typeof value !== 'string' || value === '') return null;
  let text = value;
  if (text.length > max) {
    let end = max - 1;
    const last = text.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end -= 1; // do not split a surrogate pair
    text = text.slice(0, end) + ELLIPSIS;
  }
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

function count(value) {
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function toMillis(now) {
  if (now instanceof Date) return now.getTime();
  if (typeof now === 'number' && Number.isFinite(now)) return now;
  return Date.now();
}

function isoOrNull(value) {
  if (value instanceof Date) value = value.toISOString();
  if (typeof value !== 'string' || value.length > 64) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** The completed `event.authentication.methods` with a readable timestamp: [{name, ms}] (at most MAX_METHODS). */
function completedMethods(event) {
  const methods = event && event.authentication && event.authentication.methods;
  if (!Array.isArray(methods)) return [];
  const out = [];
  for (const method of methods.slice(0, MAX_METHODS)) {
    const stamp = method && method.timestamp;
    const ms = typeof stamp === 'string' && stamp.length <= 64 ? Date.parse(stamp) : NaN;
    if (Number.isFinite(ms)) out.push({ name: typeof method.name === 'string' ? method.name : '', ms });
  }
  return out;
}

function isRecent(ms, nowMs) {
  return ms <= nowMs + CLOCK_SKEW_MS && nowMs - ms <= FRESH_AUTH_MS;
}

/**
 * The freshness rule (pure; `nowMs` epoch milliseconds): did the user complete a first factor in this very
 * transaction? Auth0 lists the methods completed *during the session*, each with its timestamp; a first factor
 * (pwd, federated, passkey, sms, email, ...: anything but `mfa`) at most FRESH_AUTH_MS old is this login's own.
 * SSO into another application reuses the session, so its methods are older. A fresh `mfa` alone (step-up MFA
 * on top of SSO) does not count: it is not a login stage. No methods at all is no evidence: not fresh.
 */
function isFreshAuthentication(event, nowMs) {
  return completedMethods(event).some((method) => method.name !== 'mfa' && isRecent(method.ms, nowMs));
}

function promptValues(prompt) {
  if (Array.isArray(prompt)) return prompt.filter((value) => typeof value === 'string');
  return typeof prompt === 'string' ? prompt.split(/\s+/) : [];
}

/**
 * Silent authentication: `prompt=none` (auth0-spa-js getTokenSilently, checkSession, an iframe renewal),
 * in `event.transaction.prompt` (a list) or the authorize request's `event.request.query.prompt` (a string).
 */
function isSilent(event) {
  const transaction = (event && event.transaction) || {};
  const query = (event && event.request && event.request.query) || {};
  return promptValues(transaction.prompt).includes('none') || promptValues(query.prompt).includes('none');
}

/**
 * What this post-login execution is for a support desk (pure; `nowMs` epoch milliseconds):
 * - 'refresh': a refresh-token exchange (`event.transaction.protocol === "oauth2-refresh-token"`): not a login;
 * - 'silent': silent authentication (isSilent): an application renewing its tokens with the existing session
 *   while nobody typed anything. Not a person logging in, and Auth0 does not count it either; announcing it
 *   would flood the feed (SPAs renew every few minutes) and, while logins_count is still 1, repeat the signup;
 * - 'signup': `event.stats.logins_count === 1` (Auth0 counts the login before Actions run) with a fresh
 *   authentication (isFreshAuthentication);
 * - 'login': anything else, SSO into a second application included (logins_count unchanged, methods older).
 * The handler publishes nothing for 'refresh' and 'silent'.
 */
function classifyLogin(event, nowMs) {
  const e = event || {};
  if (e.transaction && e.transaction.protocol === 'oauth2-refresh-token') return 'refresh';
  if (isSilent(e)) return 'silent';
  const signup = count(e.stats && e.stats.logins_count) === 1 && isFreshAuthentication(e, nowMs);
  return signup ? 'signup' : 'login';
}

/**
 * When this login happened: the newest completed method if it is recent (what the user just did, a step-up
 * MFA included); otherwise (SSO reuses an older authentication, or no methods) `now`.
 */
function loginTime(event, nowMs) {
  const newest = Math.max(...completedMethods(event).map((method) => method.ms));
  return new Date(Number.isFinite(newest) && isRecent(newest, nowMs) ? newest : nowMs).toISOString();
}

function byteLength(payload) {
  return Buffer.byteLength(JSON.stringify(payload), 'utf8');
}

/**
 * The v1 payload for this post-login event (pure: no IO; `now` is a Date or epoch milliseconds).
 *
 * `type` is "signup" exactly when classifyLogin says so (logins_count 1 and a fresh authentication), else
 * "login". Fields that are missing are null, never absent. If the JSON is over MAX_PAYLOAD_BYTES the
 * optional fields are set to null, in the order of OPTIONAL_FIELDS, until it fits; `v`, `type`, `user_id`,
 * `email`, `logins_count`, `at` and `app_metadata` always stay (at most ~3.4 KB even in the worst case).
 */
function buildPayload(event, now = new Date()) {
  const e = event || {};
  const user = e.user || {};
  const request = e.request || {};
  const geoip = request.geoip || {};
  const nowMs = toMillis(now);
  const loginsCount = count(e.stats && e.stats.logins_count);
  const signup = classifyLogin(e, nowMs) === 'signup';
  const payload = {
    v: 1,
    type: signup ? 'signup' : 'login',
    user_id: clip(user.user_id),
    email: clip(user.email),
    name: clip(user.name),
    nickname: clip(user.nickname),
    picture: clip(user.picture, MAX_PICTURE_CHARS),
    connection: clip(e.connection && e.connection.name),
    client_name: clip(e.client && e.client.name),
    country: clip(geoip.countryCode),
    city: clip(geoip.cityName),
    ip: clip(request.ip, MAX_IP_CHARS),
    logins_count: loginsCount,
    at: loginTime(e, nowMs),
    updated_at: isoOrNull(user.updated_at),
    app_metadata: { signedUp: signup },
  };
  for (const field of OPTIONAL_FIELDS) {
    if (byteLength(payload) < MAX_PAYLOAD_BYTES) break;
    payload[field] = null;
  }
  if (byteLength(payload) >= MAX_PAYLOAD_BYTES) {
    // Unreachable with the limits above (two 256-unit strings cost at most 2 x 1.5 KB of JSON); kept so
    // that a future change of the limits can never produce an oversized event.
    payload.user_id = clip(payload.user_id, 64);
    payload.email = clip(payload.email, 64);
  }
  return payload;
}

function truthy(value, fallback) {
  if (value === undefined || value === null || value === '') return fallback;
  return !/^(false|0|no|off)$/i.test(String(value).trim());
}

/**
 * The channel to publish on and, when it differs from the configured one, why.
 *
 * Decision: with an encryption master key the event must go to a `private-encrypted-` channel (Pusher
 * only encrypts there). A configured channel that is not one is derived from: `private-X` becomes
 * `private-encrypted-X`, anything else `X` becomes `private-encrypted-X` (so the default
 * `private-login-feed` becomes `private-encrypted-login-feed`). An invalid name (or one that becomes too
 * long) falls back to the default. Without a key, a configured `private-encrypted-` channel cannot be
 * used (the SDK refuses to publish there), so it is an error: null.
 */
function resolveChannel(secrets) {
  const s = secrets || {};
  const encrypted = Boolean(s.PUSHER_ENCRYPTION_MASTER_KEY_BASE64);
  const configured = typeof s.PUSHER_CHANNEL === 'string' && s.PUSHER_CHANNEL.trim() ? s.PUSHER_CHANNEL.trim() : '';
  const fallback = encrypted ? DEFAULT_ENCRYPTED_CHANNEL : DEFAULT_CHANNEL;
  if (!configured) return { channel: fallback, note: null };
  if (!CHANNEL_NAME.test(configured)) {
    return { channel: fallback, note: `PUSHER_CHANNEL is not a valid channel name; using ${fallback}` };
  }
  if (!encrypted) {
    if (configured.startsWith(ENCRYPTED_PREFIX)) {
      return { channel: null, note: `${configured} needs PUSHER_ENCRYPTION_MASTER_KEY_BASE64; nothing published` };
    }
    return { channel: configured, note: null };
  }
  if (configured.startsWith(ENCRYPTED_PREFIX)) return { channel: configured, note: null };
  const derived = ENCRYPTED_PREFIX + configured.replace(/^private-/, '');
  if (!CHANNEL_NAME.test(derived)) {
    return { channel: fallback, note: `the encrypted form of ${configured} is too long; using ${fallback}` };
  }
  return { channel: derived, note: `encryption is on: publishing on ${derived} instead of ${configured}` };
}

/** `localhost`, `::1` or 127.0.0.0/8: the only hosts plain HTTP may go to (a server on the same machine). */
function isLoopbackHost(host) {
  const name = String(host || '').trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return name === 'localhost' || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name);
}

/**
 * Why these secrets cannot be used (a log line), or null. Plain HTTP (PUSHER_USE_TLS=false) is refused unless
 * PUSHER_HOST is a loopback address, i.e. a local test set-up: a deployed Action runs on Auth0's public
 * infrastructure, so a "private network" server is unreachable and plain HTTP would carry the signed request
 * and the user's personal data across the internet.
 */
function configProblem(secrets) {
  const s = secrets || {};
  const missing = ['PUSHER_APP_ID', 'PUSHER_KEY', 'PUSHER_SECRET'].filter((name) => !s[name]);
  if (!s.PUSHER_CLUSTER && !s.PUSHER_HOST) missing.push('PUSHER_CLUSTER (or PUSHER_HOST)');
  if (missing.length > 0) return `not configured (missing secret ${missing.join(', ')}); nothing published`;
  if (!truthy(s.PUSHER_USE_TLS, true) && !(s.PUSHER_HOST && isLoopbackHost(s.PUSHER_HOST))) {
    return 'PUSHER_USE_TLS=false is allowed only with a loopback PUSHER_HOST (local tests); nothing published';
  }
  return null;
}

let pusherSdk = null;

/**
 * The `pusher` SDK, loaded on first use and kept (null, after one log line, when it cannot be loaded).
 * Never loaded at module level: a dependency missing or misspelled in the Actions editor would then throw
 * while Auth0 loads the Action, and an Action that throws fails the login.
 */
function loadPusher() {
  if (pusherSdk) return pusherSdk;
  try {
    pusherSdk = require('pusher'); // eslint-disable-line global-require
    return pusherSdk;
  } catch (err) {
    // The code (MODULE_NOT_FOUND) says it all; a module that throws while loading gets its first line.
    const firstLine = String((err && err.message) || err).split('\n')[0];
    const why = (err && err.code) || `${(err && err.name) || 'Error'}: ${firstLine}`;
    log(`dependency "pusher" cannot be loaded (${clip(why, 80)}); add pusher@${PUSHER_VERSION} under `
      + 'Dependencies in the Actions editor; nothing published');
    return null;
  }
}

/** The SDK client for these secrets (its constructor throws on a bad master key: the caller catches). */
function pusherFor(Pusher, secrets) {
  const options = {
    appId: String(secrets.PUSHER_APP_ID),
    key: String(secrets.PUSHER_KEY),
    secret: String(secrets.PUSHER_SECRET),
    useTLS: truthy(secrets.PUSHER_USE_TLS, true), // false only for a loopback host (configProblem)
    timeout: SDK_TIMEOUT_MS,
  };
  if (secrets.PUSHER_HOST) options.host = String(secrets.PUSHER_HOST);
  else options.cluster = String(secrets.PUSHER_CLUSTER);
  if (secrets.PUSHER_PORT) options.port = Number.parseInt(secrets.PUSHER_PORT, 10);
  if (secrets.PUSHER_ENCRYPTION_MASTER_KEY_BASE64) {
    options.encryptionMasterKeyBase64 = String(secrets.PUSHER_ENCRYPTION_MASTER_KEY_BASE64).trim();
  }
  return new Pusher(options);
}

/** One console.log line, `login-feed: ...`, on one line and cut to MAX_LOG_CHARS: put what matters first. */
function log(text) {
  console.log(clip(`${LOG_PREFIX} ${text}`.replace(/[\r\n]+/g, ' '), MAX_LOG_CHARS));
}

class PublishTimeout extends Error {
  constructor(ms) {
    super(`timed out after ${ms} ms`);
    this.name = 'PublishTimeout';
  }
}

/** Resolve or reject with `promise`, or reject with PublishTimeout after `ms`; the timer is always cleared. */
async function withTimeout(promise, ms) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new PublishTimeout(ms)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A one-line reason for a failure, safe to log: the SDK's errors carry the request URL (with auth_key and
 * auth_signature in its query string) and node-fetch's messages repeat it, so only codes, statuses and
 * scrubbed text are kept, and every secret value is blanked out in case some message echoes one.
 */
function describeError(err, secrets) {
  let text;
  if (err instanceof PublishTimeout || err instanceof RefusedByServer) {
    text = err.message;
  } else if (err && typeof err.status === 'number') {
    const body = typeof err.body === 'string' ? err.body.slice(0, 200) : '';
    text = `HTTP ${err.status}${body ? ` ${body}` : ''}`;
  } else if (err && err.error) {
    const inner = err.error;
    if (inner.name === 'AbortError' || inner.type === 'aborted') text = `request timed out after ${SDK_TIMEOUT_MS} ms`;
    else text = `request failed: ${inner.code || inner.errno || inner.type || inner.name || 'error'}`;
  } else {
    text = `${(err && err.name) || 'Error'}: ${(err && err.message) || String(err)}`;
  }
  text = text.replace(/\b(https?|wss?):\/\/\S*/g, '<url>').replace(/[\r\n]+/g, ' ');
  for (const value of Object.values(secrets || {})) {
    if (typeof value === 'string' && value.length >= 4) text = text.split(value).join('<redacted>');
  }
  return clip(text, MAX_REASON_CHARS) || 'unknown error';
}

/** A 2xx answer whose body is an error (soketi 1.6.1 answers a bad signature with HTTP 200 and a 401 body). */
class RefusedByServer extends Error {
  constructor(code, reason) {
    super(`refused by the server: ${code} ${reason}`);
    this.name = 'RefusedByServer';
  }
}

async function publish(pusher, channel, eventName, payload) {
  const response = await pusher.trigger(channel, eventName, payload);
  // Read the (tiny) body: the keep-alive socket then goes back to the pool instead of staying busy, and
  // an error hidden in a 200 answer is not mistaken for success. Pusher itself answers `{}`.
  const text = response && typeof response.text === 'function' ? await response.text() : '';
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: nothing to check
  }
  if (body && typeof body === 'object' && body.error) {
    throw new RefusedByServer(String(body.code || '').slice(0, 8), String(body.error).slice(0, 200));
  }
}

/**
 * Handler that will be called during the execution of a PostLogin flow.
 *
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 *   Deliberately unused: publishing to the feed must never change the outcome of a login.
 */
exports.onExecutePostLogin = async (event, api) => { // eslint-disable-line no-unused-vars
  const started = Date.now();
  const secrets = (event && event.secrets) || {};
  let eventName = '';
  let channel = null;
  try {
    const kind = classifyLogin(event, started);
    if (kind === 'refresh' || kind === 'silent') return; // nobody logged in: not an event for the feed
    const problem = configProblem(secrets);
    if (problem) {
      log(problem);
      return;
    }
    const resolved = resolveChannel(secrets);
    if (resolved.note) log(resolved.note);
    if (!resolved.channel) return;
    const Pusher = loadPusher();
    if (!Pusher) return;
    channel = resolved.channel;
    const payload = buildPayload(event, started);
    eventName = payload.type === 'signup' ? EVENT_SIGNUP : EVENT_LOGIN;
    await withTimeout(publish(pusherFor(Pusher, secrets), channel, eventName, payload), PUBLISH_TIMEOUT_MS);
    log(`published ${eventName} in ${Date.now() - started} ms (channel ${channel})`);
  } catch (err) {
    // Reason first: Auth0 cuts each log line at 256 characters, and a channel name may be 200 long.
    log(`could not publish ${eventName || 'the event'} after ${Date.now() - started} ms, the login goes on: `
      + `${describeError(err, secrets)}${channel ? ` (channel ${channel})` : ''}`);
  }
};

exports.buildPayload = buildPayload;
exports.classifyLogin = classifyLogin;
exports.isFreshAuthentication = isFreshAuthentication;
exports.resolveChannel = resolveChannel;
exports.describeError = describeError;
exports.constants = Object.freeze({
  PUBLISH_TIMEOUT_MS,
  SDK_TIMEOUT_MS,
  MAX_PAYLOAD_BYTES,
  MAX_LOG_CHARS,
  FRESH_AUTH_MS,
  CLOCK_SKEW_MS,
  DEFAULT_CHANNEL,
  DEFAULT_ENCRYPTED_CHANNEL,
  EVENT_SIGNUP,
  EVENT_LOGIN,
  OPTIONAL_FIELDS,
  PUSHER_VERSION,
});
