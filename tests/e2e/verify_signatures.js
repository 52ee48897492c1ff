#!/usr/bin/env node
// Verifies the signatures of callbacks captured by the integration tests with
// implementations that share no code with Holdpoint:
//   - Standard Webhooks: the `standardwebhooks` npm package (Webhook.verify),
//   - seed 004: X-Signature-256 recomputed with Node's own crypto module, with
//     the 5-minute replay window and nonce uniqueness a receiver must enforce,
//   - X-Holdpoint-Signature (the one-header form of docs/webhooks.md, for
//     seed 000 receivers), recomputed with Node's crypto as that page shows.
//
// usage: node verify_signatures.js CAPTURE.json
// CAPTURE.json: {"secret": "whsec_...", "requests": [{"headers": {...}, "body_b64": "..."}]}
// Exits 0 when every request verifies under both schemes and a tampered body
// or timestamp is refused; prints one line per failure and exits 1 otherwise.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const { Webhook } = require("standardwebhooks");

function lower(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

function verifySeed004(key, headers, body, nowSeconds) {
  const ts = headers["x-timestamp"];
  const nonce = headers["x-nonce"];
  const sig = headers["x-signature-256"] || "";
  if (!ts || !nonce || !sig.startsWith("sha256=")) return "missing seed 004 headers";
  if (!/^[0-9]+$/.test(ts) || Math.abs(nowSeconds - Number(ts)) > 300)
    return "timestamp outside the 5-minute window";
  const mac = crypto.createHmac("sha256", key);
  mac.update(`${ts}.${nonce}.`);
  mac.update(body);
  const want = Buffer.from("sha256=" + mac.digest("hex"));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !crypto.timingSafeEqual(want, got))
    return "X-Signature-256 does not match";
  return null;
}

// The receiver code of docs/webhooks.md "X-Holdpoint-Signature".
function verifyHoldpoint(key, headers, body, nowSeconds) {
  const m = /^t=([0-9]+),v1=([0-9a-f]{64})$/.exec(headers["x-holdpoint-signature"] || "");
  if (!m) return "missing or malformed X-Holdpoint-Signature";
  if (Math.abs(nowSeconds - Number(m[1])) > 300) return "timestamp outside the 5-minute window";
  const mac = crypto.createHmac("sha256", key).update(`${m[1]}.`).update(body).digest("hex");
  if (!crypto.timingSafeEqual(Buffer.from(mac), Buffer.from(m[2])))
    return "X-Holdpoint-Signature does not match";
  return null;
}

function main() {
  const capture = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const wh = new Webhook(capture.secret);
  const key = Buffer.from(capture.secret.replace(/^whsec_/, ""), "base64");
  const now = Math.floor(Date.now() / 1000);
  const nonces = new Set();
  let failures = 0;

  capture.requests.forEach((req, i) => {
    const headers = lower(req.headers);
    const body = Buffer.from(req.body_b64, "base64").toString("utf8");
    try {
      wh.verify(body, headers);
    } catch (e) {
      console.log(`request ${i}: standardwebhooks refused it: ${e.message}`);
      failures++;
    }
    const why = verifySeed004(key, headers, Buffer.from(body, "utf8"), now);
    if (why) {
      console.log(`request ${i}: seed 004 signature: ${why}`);
      failures++;
    }
    const whyHp = verifyHoldpoint(key, headers, Buffer.from(body, "utf8"), now);
    if (whyHp) {
      console.log(`request ${i}: X-Holdpoint-Signature: ${whyHp}`);
      failures++;
    }
    if (
      !verifyHoldpoint(key, headers, Buffer.from(body + " "), now) ||
      !verifyHoldpoint(key, headers, Buffer.from(body), now + 301)
    ) {
      console.log(`request ${i}: X-Holdpoint-Signature accepted a tampered body or a stale time`);
      failures++;
    }
    if (nonces.has(headers["x-nonce"])) {
      console.log(`request ${i}: X-Nonce reused`);
      failures++;
    }
    nonces.add(headers["x-nonce"]);
    if (headers["webhook-timestamp"] !== headers["x-timestamp"]) {
      console.log(`request ${i}: webhook-timestamp and X-Timestamp differ`);
      failures++;
    }
    // The verifiers must refuse a tampered body and a stale timestamp.
    let refused = false;
    try {
      wh.verify(body + " ", headers);
    } catch (e) {
      refused = true;
    }
    if (!refused || !verifySeed004(key, headers, Buffer.from(body + " "), now)) {
      console.log(`request ${i}: a tampered body was accepted`);
      failures++;
    }
    if (!verifySeed004(key, headers, Buffer.from(body), now + 301) === true) {
      console.log(`request ${i}: a stale timestamp was accepted`);
      failures++;
    }
  });
  console.log(`verified ${capture.requests.length} requests, ${failures} failures`);
  process.exit(failures === 0 && capture.requests.length > 0 ? 0 : 1);
}

main();
