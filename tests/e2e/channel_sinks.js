#!/usr/bin/env node
// Local stand-ins for the services Holdpoint's channels talk to, checked with
// libraries that share no code with Holdpoint:
//   - a Web Push service (RFC 8030): each POST must carry a VAPID (RFC 8292)
//     Authorization whose ES256 JWT verifies (Node's crypto) with the key it
//     names and whose claims fit this origin; its body must decrypt with
//     `http_ece` (aes128gcm, RFC 8291) under keys generated here the way a
//     browser generates them (a P-256 key pair and 16 random bytes). Before
//     it reports ready, the same checks are run on a request built by the
//     `web-push` library itself, so the checks are known to accept a real
//     client's request.
//   - three SMTP servers (`smtp-server`) that require AUTH: one in clear
//     that does not offer STARTTLS, one offering STARTTLS and one speaking
//     TLS from the first byte (implicit TLS), both with a certificate made
//     here by `openssl` for 127.0.0.1 (its PEM is the CA file the delivery
//     worker is given); every message is parsed with `mailparser`.
//
// usage: node channel_sinks.js OUT.jsonl SMTP_USER SMTP_PASSWORD
// Prints one JSON line when ready: {"push_port", "smtp_port",
// "starttls_port", "tls_port", "ca_file", "subscriptions": [{"endpoint",
// "keys": {"p256dh", "auth"}}, ...]}: five, of which the fourth's endpoint
// answers 410 Gone and the fifth's 404. Appends one JSON line per request to
// OUT.jsonl:
//   {"type": "push", "ok", "errors", "path", "payload", "claims", "headers"}
//   {"type": "mail", "server": "plain"|"starttls"|"tls", "secure", "from",
//    "to", "subject", "text", "html", "links", "user"}
// Runs until killed.
"use strict";

const { execFileSync } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const path = require("path");
const ece = require("http_ece");
const webpush = require("web-push");
const { SMTPServer } = require("smtp-server");
const { simpleParser } = require("mailparser");

const [out, smtpUser, smtpPass] = process.argv.slice(2);
const b64u = (b) => Buffer.from(b).toString("base64url");

function record(o) {
  fs.appendFileSync(out, JSON.stringify(o) + "\n");
}

// Browser-like subscriptions: an ECDH P-256 key pair and an auth secret each.
const subs = [];
function newSubscription(port, path) {
  const ecdh = crypto.createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = crypto.randomBytes(16);
  const sub = {
    endpoint: `http://127.0.0.1:${port}${path}`,
    keys: { p256dh: b64u(ecdh.getPublicKey()), auth: b64u(auth) },
  };
  subs.push({ path, ecdh, auth: b64u(auth), sub });
  return sub;
}

// RFC 8292: "vapid t=<jwt>, k=<key>"; the JWT is ES256 over header.claims.
function checkVapid(authz, origin, errors) {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authz || "");
  if (!m) {
    errors.push("no vapid authorization");
    return null;
  }
  const [h64, c64, s64] = m[1].split(".");
  const header = JSON.parse(Buffer.from(h64 || "", "base64url").toString());
  const claims = JSON.parse(Buffer.from(c64 || "", "base64url").toString());
  const pub = Buffer.from(m[2], "base64url");
  if (header.alg !== "ES256" || header.typ !== "JWT") errors.push("jwt header " + JSON.stringify(header));
  if (pub.length !== 65 || pub[0] !== 4) errors.push("k is not an uncompressed P-256 point");
  const key = crypto.createPublicKey({
    key: { kty: "EC", crv: "P-256", x: b64u(pub.subarray(1, 33)), y: b64u(pub.subarray(33)) },
    format: "jwk",
  });
  const ok = crypto.verify("sha256", Buffer.from(`${h64}.${c64}`), { key, dsaEncoding: "ieee-p1363" },
    Buffer.from(s64 || "", "base64url"));
  if (!ok) errors.push("jwt signature does not verify");
  const now = Math.floor(Date.now() / 1000);
  if (claims.aud !== origin) errors.push(`aud ${claims.aud} is not ${origin}`);
  if (!(claims.exp > now && claims.exp <= now + 24 * 3600)) errors.push("exp outside 24 hours");
  if (!/^(mailto:.+@.+|https:\/\/.+)$/.test(claims.sub || "")) errors.push("sub is not mailto: or https:");
  claims.k = m[2];
  return claims;
}

function pushServer() {
  return http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const errors = [];
      const s = subs.find((x) => x.path === req.url);
      const origin = `http://${req.headers.host}`;
      let payload = null, claims = null;
      if (req.method !== "POST") errors.push("method " + req.method);
      if (req.headers["content-encoding"] !== "aes128gcm") errors.push("content-encoding");
      if (!/^[0-9]+$/.test(req.headers.ttl || "")) errors.push("TTL header");
      try {
        claims = checkVapid(req.headers.authorization, origin, errors);
      } catch (e) {
        errors.push("vapid: " + e.message);
      }
      if (!s) {
        errors.push("unknown endpoint " + req.url);
      } else {
        try {
          const plain = ece.decrypt(Buffer.concat(chunks), {
            version: "aes128gcm", privateKey: s.ecdh, authSecret: s.auth,
          });
          const text = plain.toString("utf8");
          try { payload = JSON.parse(text); } catch (e) { payload = text; }
        } catch (e) {
          errors.push("decrypt: " + e.message);
        }
      }
      // Subscriptions the push service no longer knows: 410 Gone, 404.
      const status = req.url === "/push/gone" ? 410 : req.url === "/push/missing" ? 404 : 201;
      record({ type: "push", ok: errors.length === 0, errors, path: req.url, payload, claims,
        headers: { ttl: req.headers.ttl, urgency: req.headers.urgency, topic: req.headers.topic },
        status });
      res.writeHead(status);
      res.end();
    });
  });
}

// server: "plain" (no STARTTLS), "starttls" or "tls" (implicit); tls: {key, cert}.
function smtpServer(server, tls) {
  return new SMTPServer({
    ...(server === "plain" ? { disabledCommands: ["STARTTLS"] } : tls),
    secure: server === "tls",
    authOptional: false,
    logger: false,
    onAuth(auth, session, cb) {
      if (auth.username === smtpUser && auth.password === smtpPass) return cb(null, { user: auth.username });
      return cb(new Error("Invalid username or password"));
    },
    onData(stream, session, cb) {
      simpleParser(stream).then((mail) => {
        const html = mail.html || "";
        const links = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, "&"));
        record({ type: "mail", server, secure: session.secure === true, user: session.user, from: mail.from && mail.from.text,
          to: mail.to && mail.to.text, envelope_to: session.envelope.rcptTo.map((r) => r.address),
          subject: mail.subject, text: mail.text, html, links });
        cb();
      }, cb);
    },
  });
}

async function main() {
  const push = pushServer();
  await new Promise((r) => push.listen(0, "127.0.0.1", r));
  const pport = push.address().port;
  // A certificate for 127.0.0.1, self-signed: its PEM is the CA file.
  const keyFile = `${out}.smtp-tls.key`, caFile = path.resolve(`${out}.smtp-tls.pem`);
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
    "-nodes", "-keyout", keyFile, "-out", caFile, "-days", "2", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  const tls = { key: fs.readFileSync(keyFile), cert: fs.readFileSync(caFile) };
  const ports = {};
  for (const server of ["plain", "starttls", "tls"]) {
    const smtp = smtpServer(server, tls);
    // A client that refuses the certificate ends its connection: not fatal.
    smtp.on("error", () => {});
    await new Promise((r) => smtp.listen(0, "127.0.0.1", r));
    ports[server] = smtp.server.address().port;
  }
  for (let i = 0; i < 3; i++) newSubscription(pport, `/push/${i}`);
  newSubscription(pport, "/push/gone");
  newSubscription(pport, "/push/missing");

  // The reference: web-push's own request must pass the same checks.
  const ref = newSubscription(pport, "/push/reference");
  // web-push sends over https only, so its request is built by the library
  // (generateRequestDetails) and sent here over http as it is.
  const keys = webpush.generateVAPIDKeys();
  const details = webpush.generateRequestDetails(ref, JSON.stringify({ reference: true }), {
    vapidDetails: { subject: "mailto:reference@example.com", publicKey: keys.publicKey, privateKey: keys.privateKey },
    TTL: 60, contentEncoding: "aes128gcm",
  });
  await new Promise((resolve, reject) => {
    const req = http.request(details.endpoint, { method: details.method, headers: details.headers }, (res) => {
      res.resume();
      res.on("end", resolve);
    });
    req.on("error", reject);
    req.end(details.body);
  });
  const lines = fs.readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const r = lines.find((l) => l.path === "/push/reference");
  if (!r || !r.ok || !r.payload || r.payload.reference !== true) {
    console.error("channel_sinks: the checks refuse web-push's own request: " + JSON.stringify(r));
    process.exit(1);
  }
  console.log(JSON.stringify({
    push_port: pport, smtp_port: ports.plain, starttls_port: ports.starttls, tls_port: ports.tls,
    ca_file: caFile,
    subscriptions: subs.filter((s) => s.path !== "/push/reference").map((s) => s.sub),
  }));
}

fs.writeFileSync(out, "");
main().catch((e) => { console.error("channel_sinks: " + e.stack); process.exit(1); });
