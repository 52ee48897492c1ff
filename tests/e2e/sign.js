#!/usr/bin/env node
// Signs what the tests need signed, with Node's crypto (no code shared with
// Holdpoint), following the documented formats:
//
//   node sign.js link SECRET_KEY APPROVAL_ID OPTION CHANNEL_ID USER_ID EXPIRES
//     A decision link token (docs/channels.md): the link key is
//     HKDF-SHA256(ikm = HOLDPOINT_SECRET_KEY's 32 bytes, no salt,
//     info "holdpoint decision links v1"); the token is
//     base64url(payload) "." base64url(first 16 bytes of HMAC-SHA256(key,
//     payload)), payload = 0x01 | approval uuid | option (0xff none) |
//     channel uuid (zero: none) | user uuid (zero: none) | expiry (int64 BE).
//     OPTION -1, CHANNEL_ID and USER_ID "-" for none; EXPIRES Unix seconds.
//
//   node sign.js wake SECRET_KEY MESSAGE_FILE
//     A decision's wake message as the API publishes it on Redis
//     (docs/internals/waiters.md): the file holds "<keys> =<row>"; the key
//     is HKDF-SHA256(ikm = HOLDPOINT_SECRET_KEY's 32 bytes, no salt, info
//     "holdpoint wake messages v1"); the output is "<keys> ~" +
//     hex(HMAC-SHA256(key, file)) + " =<row>".
//
//   node sign.js slack SIGNING_SECRET TIMESTAMP BODY_FILE
//     Slack's request signature: "v0=" + hex(HMAC-SHA256(secret,
//     "v0:<timestamp>:<body>")).
"use strict";

const crypto = require("crypto");
const fs = require("fs");

function keyBytes(s) {
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, "hex");
  return Buffer.from(s, "base64");
}

function uuid(s) {
  return s === "-" ? Buffer.alloc(16) : Buffer.from(s.replace(/-/g, ""), "hex");
}

const [cmd, ...a] = process.argv.slice(2);
if (cmd === "link") {
  const [secret, approval, option, channel, user, expires] = a;
  const key = Buffer.from(crypto.hkdfSync("sha256", keyBytes(secret), Buffer.alloc(0),
    Buffer.from("holdpoint decision links v1"), 32));
  const exp = Buffer.alloc(8);
  exp.writeBigInt64BE(BigInt(expires));
  const payload = Buffer.concat([Buffer.from([1]), uuid(approval),
    Buffer.from([Number(option) < 0 ? 0xff : Number(option)]), uuid(channel), uuid(user), exp]);
  const mac = crypto.createHmac("sha256", key).update(payload).digest().subarray(0, 16);
  process.stdout.write(payload.toString("base64url") + "." + mac.toString("base64url"));
} else if (cmd === "wake") {
  const [secret, file] = a;
  const msg = fs.readFileSync(file, "utf8");
  const at = msg.indexOf(" =");
  if (at < 0) {
    console.error("sign.js wake: the message has no row");
    process.exit(2);
  }
  const key = Buffer.from(crypto.hkdfSync("sha256", keyBytes(secret), Buffer.alloc(0),
    Buffer.from("holdpoint wake messages v1"), 32));
  const mac = crypto.createHmac("sha256", key).update(msg, "utf8").digest("hex");
  process.stdout.write(msg.slice(0, at) + " ~" + mac + msg.slice(at));
} else if (cmd === "slack") {
  const [secret, ts, file] = a;
  const body = fs.readFileSync(file);
  const mac = crypto.createHmac("sha256", secret).update(`v0:${ts}:`).update(body).digest("hex");
  process.stdout.write("v0=" + mac);
} else {
  console.error("usage: sign.js link|wake|slack ...");
  process.exit(2);
}
