#!/usr/bin/env node
// The official MCP TypeScript SDK v2 client (@modelcontextprotocol/client,
// from npm) against two holdpoint-api replicas in the stateless 2026-07-28
// revision, over Streamable HTTP with the Bearer key alone: a client pinned
// to 2026-07-28 connects by server/discover (no initialize, no
// Mcp-Session-Id), lists the tools and compiles their schemas, ask_user on
// one replica and wait_for_answer on the other with a second client instance
// (nothing shared but the correlationId), a reviewer deciding through the
// Reviewer API, progress notifications while waiting, input, cancel,
// send_notification and list_sessions, the SDK's own output-schema check on
// every result, and the refusals: bad arguments, an unknown tool, another
// team's key. Then a client in `auto` mode (probe, legacy fallback allowed)
// must still land in 2026-07-28, and raw requests without the SDK check the
// cache fields of tools/list and the ladder's -32020 and -32022 refusals.
//
// usage: node mcp_modern_client.mjs
// env:   HP_URL_A, HP_URL_B   base URLs of two API replicas
//        HP_API_KEY           an agent's key (the bootstrap key: team-scoped)
//        HP_USER_TOKEN        a reviewer of the same team
//        HP_OTHER_KEY         a key of another team
// Prints one line per check; exits 0 only when every check passed.

import { Client, ProtocolError, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { A, B, KEY, OTHER, check, checkTools, commonSteps, resolve, run } from "./mcp_common.mjs";

const MODERN = "2026-07-28";
const FIVE = ["ask_user", "cancel_question", "list_sessions", "send_notification", "wait_for_answer"];

// Every response the SDK transports receive, to prove no session id ever
// comes back in the stateless revision.
const sessionHeadersSeen = [];
const recordingFetch = async (url, init) => {
  const r = await fetch(url, init);
  const sid = r.headers.get("mcp-session-id");
  if (sid !== null) sessionHeadersSeen.push(sid);
  return r;
};

function transport(base, key) {
  return new StreamableHTTPClientTransport(new URL("/mcp", base), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
    fetch: recordingFetch,
  });
}

// mode: { pin: "2026-07-28" } (modern only, no fallback) or "auto"
// (server/discover probe, legacy initialize if the server is not modern).
async function client(t, mode = { pin: MODERN }) {
  const c = new Client({ name: "holdpoint-e2e-modern", version: "1.0.0" }, { versionNegotiation: { mode } });
  await c.connect(t);
  return c;
}

// One part of the run; an unexpected error fails it without stopping the others.
async function part(name, fn) {
  try {
    await fn();
  } catch (e) {
    check(false, `${name}: unexpected error`, String(e?.stack ?? e));
  }
}

// A raw 2026-07-28 request, no SDK: the envelope in params._meta and the
// standard headers, each overridable.
async function raw(base, { method = "tools/list", version = MODERN, headers = {} } = {}) {
  const body = {
    jsonrpc: "2.0",
    id: 1,
    method,
    params: {
      _meta: {
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": {},
      },
    },
  };
  const r = await fetch(new URL("/mcp", base), {
    method: "POST",
    headers: {
      Authorization: `Bearer ${KEY}`,
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": version,
      "Mcp-Method": method,
      ...headers,
    },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  let json;
  if ((r.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    // the JSON-RPC response is the event whose data carries our id
    for (const ev of text.split(/\r?\n\r?\n/)) {
      const data = ev.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
      try {
        const m = JSON.parse(data);
        if (m && m.id === 1) json = m;
      } catch {}
    }
  } else {
    try {
      json = JSON.parse(text);
    } catch {}
  }
  return { status: r.status, headers: r.headers, json, text };
}

let s1; // the first question (team of HP_API_KEY), reused by the other-team part
let q1;

async function scenario() {
  // ---- pinned client on replica A: server/discover, no session ----
  const ta = transport(A, KEY);
  const a = await client(ta);
  check(a.getNegotiatedProtocolVersion() === MODERN, `negotiated ${MODERN}`, a.getNegotiatedProtocolVersion());
  check(a.getProtocolEra() === "modern", "the modern era", a.getProtocolEra());
  check(ta.protocolVersion === MODERN, "the transport sends MCP-Protocol-Version 2026-07-28", ta.protocolVersion);
  const d = a.getDiscoverResult();
  check(Array.isArray(d?.supportedVersions) && d.supportedVersions.includes(MODERN),
    "server/discover lists 2026-07-28 in supportedVersions", d);
  check(!!d?.capabilities?.tools && !!a.getServerCapabilities()?.tools, "server/discover has the tools capability", d?.capabilities);
  check(a.getServerVersion()?.name === "holdpoint", "serverInfo (discover _meta) names holdpoint", a.getServerVersion());
  check(/wait_for_answer/.test(a.getInstructions() ?? ""), "instructions explain wait_for_answer", a.getInstructions());
  check(ta.sessionId === undefined, "no Mcp-Session-Id", ta.sessionId);

  // ---- tools and their schemas ----
  const { tools } = await a.listTools();
  checkTools(tools);

  // ---- ask on A, nobody answers yet: a pending result within the wait ----
  q1 = `Which region for the modern e2e run ${Date.now()}?`;
  const t0 = Date.now();
  const r1 = await a.callTool({
    name: "ask_user",
    arguments: {
      question: q1, type: "select", options: ["eu-west", "us-east", "ap-south"],
      agentName: "e2e modern agent", sessionId: "e2e-modern-run", wait: true, timeoutSeconds: 1,
    },
  });
  s1 = r1.structuredContent;
  check(!r1.isError && s1?.status === "timeout" && s1.answered === false && typeof s1.correlationId === "string"
    && s1.correlationId.length > 0, "ask_user returns timeout (not answered) with a correlationId", r1);
  check(Date.now() - t0 < 20000, "the waiting tool returned well before the client timeout", Date.now() - t0);
  check(/wait_for_answer/.test(s1?.message ?? ""), "the pending result tells the model to call wait_for_answer", s1);
  check(JSON.parse(r1.content?.[0]?.text ?? "null")?.correlationId === s1?.correlationId, "text content carries the same JSON");

  // ---- the reviewer answers; wait_for_answer on replica B, another client ----
  await resolve(q1, { option_index: 1 });
  const tb = transport(B, KEY);
  const b = await client(tb);
  check(tb.sessionId === undefined, "the second client on the other replica has no session either", tb.sessionId);
  await b.listTools(); // caches the output schemas the SDK validates with
  const r2 = await b.callTool({ name: "wait_for_answer", arguments: { correlationId: s1.correlationId } });
  check(r2.structuredContent?.status === "answered" && r2.structuredContent.value === "us-east",
    "wait_for_answer on the other replica, other client, returns the reviewer's choice", r2);

  // ---- progress while waiting: ask on B, wait on A, decide mid-wait ----
  const q2 = `Deploy modern build ${Date.now()}?`;
  const r3 = await b.callTool({ name: "ask_user", arguments: { question: q2, wait: false } });
  check(r3.structuredContent?.status === "pending" && r3.structuredContent.pollUrl, "ask_user wait:false", r3);
  let progress = 0, firstProgress;
  const seen = new Promise((r) => (firstProgress = r));
  const waiting = a.callTool(
    { name: "wait_for_answer", arguments: { correlationId: r3.structuredContent.correlationId, timeoutSeconds: 30 } },
    { onprogress: () => { progress++; firstProgress(); }, resetTimeoutOnProgress: true },
  );
  // a server that never streams progress must not hang the run
  await Promise.race([seen, waiting.catch(() => {})]);
  await resolve(q2, { option_index: 0 });
  const r4 = await waiting;
  check(progress >= 1, "progress notifications while waiting", progress);
  check(r4.structuredContent?.status === "answered" && r4.structuredContent.value === "yes",
    "a decision wakes the waiting tool (confirm: yes)", r4);

  await commonSteps(a, b, "modern", (e) => e instanceof ProtocolError);

  check(ta.sessionId === undefined && tb.sessionId === undefined, "still no session after the calls");
  await a.close();
  await b.close();
}

// ---- another team's key on B: stateless, so nothing to steal but the id ----
async function otherTeam() {
  if (!s1?.correlationId) {
    check(false, "another team's key: no correlationId from the first part to try");
    return;
  }
  const to = transport(B, OTHER);
  const o = await client(to);
  check(to.sessionId === undefined, "another team's client has no session", to.sessionId);
  const { tools } = await o.listTools();
  check(JSON.stringify(tools.map((t) => t.name).sort()) === JSON.stringify(FIVE), "another team's key lists the tools", tools.map((t) => t.name));
  const leaks = (r) => {
    const s = JSON.stringify(r ?? null);
    return s.includes(q1) || s.includes("us-east") || s.includes("eu-west");
  };
  const w = await o.callTool({ name: "wait_for_answer", arguments: { correlationId: s1.correlationId, timeoutSeconds: 1 } });
  check(w.isError === true && w.structuredContent?.status === undefined,
    "another team's wait_for_answer on the first team's correlationId is a tool error (not found)", w);
  check(!leaks(w), "it reveals nothing of the other team's question", w);
  const c = await o.callTool({ name: "cancel_question", arguments: { correlationId: s1.correlationId } });
  check(c.isError === true && c.structuredContent?.status === undefined,
    "another team's cancel_question on the first team's correlationId is a tool error", c);
  check(!leaks(c), "the refused cancel reveals nothing either", c);
  await o.close();
}

// ---- auto mode on replica B: probes, must land in the modern era ----
async function autoMode() {
  const t = transport(B, KEY);
  const c = await client(t, "auto");
  check(c.getNegotiatedProtocolVersion() === MODERN, `auto mode negotiates ${MODERN} (no legacy fallback)`,
    c.getNegotiatedProtocolVersion());
  check(c.getDiscoverResult()?.supportedVersions?.includes(MODERN) === true, "auto mode kept the discover result", c.getDiscoverResult());
  check(t.sessionId === undefined, "auto mode: no Mcp-Session-Id", t.sessionId);
  const { tools } = await c.listTools();
  check(JSON.stringify(tools.map((x) => x.name).sort()) === JSON.stringify(FIVE), "auto mode lists the five tools", tools.map((x) => x.name));
  await c.close();
}

// ---- raw requests, no SDK ----
async function rawRequests() {
  const ok = await raw(A);
  const res = ok.json?.result;
  check(ok.status === 200 && ok.json?.id === 1 && Array.isArray(res?.tools), "raw tools/list: 200", { status: ok.status, body: ok.text.slice(0, 400) });
  check(res?.resultType === "complete", "raw tools/list: resultType complete", res?.resultType);
  check(Number.isInteger(res?.ttlMs) && res.ttlMs >= 0, "raw tools/list: ttlMs a non-negative integer", res?.ttlMs);
  check(res?.cacheScope === "public" || res?.cacheScope === "private", "raw tools/list: cacheScope public or private", res?.cacheScope);
  check(!ok.headers.has("mcp-session-id"), "raw tools/list: no Mcp-Session-Id header", ok.headers.get("mcp-session-id"));

  const mm = await raw(A, { headers: { "Mcp-Method": "tools/call" } });
  check(mm.status === 400 && mm.json?.error?.code === -32020 && mm.json?.id === 1,
    "raw: Mcp-Method not matching the body is 400, -32020 (HeaderMismatch) with the request's id", { status: mm.status, body: mm.text.slice(0, 400) });

  const uv = await raw(A, { version: "2099-01-01" });
  const sup = uv.json?.error?.data?.supported;
  check(uv.status === 400 && uv.json?.error?.code === -32022 && Array.isArray(sup) && sup.includes(MODERN) && uv.json?.id === 1,
    "raw: an unknown revision is 400, -32022 with data.supported naming 2026-07-28", { status: uv.status, body: uv.text.slice(0, 400) });
}

async function main() {
  await part("pinned client scenario", scenario);
  await part("another team's key", otherTeam);
  await part("auto mode", autoMode);
  await part("raw requests", rawRequests);
  check(sessionHeadersSeen.length === 0, "no response to the SDK clients carried Mcp-Session-Id", sessionHeadersSeen);
}

run("mcp modern e2e", main);
