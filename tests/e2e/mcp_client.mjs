#!/usr/bin/env node
// The official MCP TypeScript SDK client (@modelcontextprotocol/sdk, from npm)
// against two holdpoint-api replicas, over Streamable HTTP with the Bearer key
// alone: connect and negotiate, list the tools and compile their schemas,
// ask_user on one replica and wait_for_answer on the other in the same
// session (sessions live in PostgreSQL), a reviewer deciding through the
// Reviewer API, progress notifications while waiting, input, cancel,
// send_notification and list_sessions, the SDK's own output-schema check on
// every result, and the refusals: bad arguments, an unknown tool, another
// team's key, an ended session.
//
// usage: node mcp_client.mjs
// env:   HP_URL_A, HP_URL_B   base URLs of two API replicas
//        HP_API_KEY           an agent's key (the bootstrap key: team-scoped)
//        HP_USER_TOKEN        a reviewer of the same team
//        HP_OTHER_KEY         a key of another team
// Prints one line per check; exits 0 only when every check passed.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { A, B, KEY, OTHER, check, checkTools, commonSteps, resolve, rejects, run } from "./mcp_common.mjs";

function transport(base, key, sessionId) {
  return new StreamableHTTPClientTransport(new URL("/mcp", base), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
    sessionId,
  });
}

async function client(t) {
  const c = new Client({ name: "holdpoint-e2e", version: "1.0.0" });
  await c.connect(t);
  return c;
}

async function main() {
  // ---- connect on replica A ----
  const ta = transport(A, KEY);
  const a = await client(ta);
  check(a.getServerVersion()?.name === "holdpoint", "serverInfo names holdpoint", a.getServerVersion());
  check(ta.protocolVersion === "2025-11-25", "negotiated 2025-11-25", ta.protocolVersion);
  check(typeof ta.sessionId === "string" && ta.sessionId.startsWith("mcp_"), "Mcp-Session-Id", ta.sessionId);
  check(!!a.getServerCapabilities()?.tools, "tools capability");
  check(/wait_for_answer/.test(a.getInstructions() ?? ""), "instructions explain wait_for_answer");
  await a.ping();
  check(true, "ping");

  // ---- tools and their schemas ----
  const { tools } = await a.listTools();
  checkTools(tools);

  // ---- ask on A, nobody answers yet: a pending result within the wait ----
  const q1 = `Which region for the e2e run ${Date.now()}?`;
  const t0 = Date.now();
  const r1 = await a.callTool({
    name: "ask_user",
    arguments: {
      question: q1, type: "select", options: ["eu-west", "us-east", "ap-south"],
      agentName: "e2e agent", sessionId: "e2e-v1-run", wait: true, timeoutSeconds: 1,
    },
  });
  const s1 = r1.structuredContent;
  check(!r1.isError && s1?.status === "timeout" && s1.answered === false, "ask_user returns pending after its wait", r1);
  check(Date.now() - t0 < 20000, "the waiting tool returned well before the client timeout", Date.now() - t0);
  check(/wait_for_answer/.test(s1?.message ?? ""), "the pending result tells the model to call wait_for_answer", s1);
  check(JSON.parse(r1.content[0].text).correlationId === s1.correlationId, "text content carries the same JSON");

  // ---- the reviewer answers; wait_for_answer on replica B, same session ----
  await resolve(q1, { option_index: 1 });
  const tb = transport(B, KEY, ta.sessionId);
  const b = await client(tb);
  tb.setProtocolVersion(ta.protocolVersion);
  await b.listTools(); // caches the output schemas the SDK validates with
  const r2 = await b.callTool({ name: "wait_for_answer", arguments: { correlationId: s1.correlationId } });
  check(r2.structuredContent?.status === "answered" && r2.structuredContent.value === "us-east",
    "wait_for_answer on the other replica returns the reviewer's choice", r2);

  // ---- progress while waiting: ask on B, wait on A, decide mid-wait ----
  const q2 = `Deploy build ${Date.now()}?`;
  const r3 = await b.callTool({ name: "ask_user", arguments: { question: q2, wait: false } });
  check(r3.structuredContent?.status === "pending" && r3.structuredContent.pollUrl, "ask_user wait:false", r3);
  let progress = 0, firstProgress;
  const seen = new Promise((r) => (firstProgress = r));
  const waiting = a.callTool(
    { name: "wait_for_answer", arguments: { correlationId: r3.structuredContent.correlationId, timeoutSeconds: 30 } },
    undefined,
    { onprogress: () => { progress++; firstProgress(); }, resetTimeoutOnProgress: true },
  );
  await seen;
  await resolve(q2, { option_index: 0 });
  const r4 = await waiting;
  check(progress >= 1, "progress notifications while waiting", progress);
  check(r4.structuredContent?.value === "yes", "a decision wakes the waiting tool", r4);

  await commonSteps(a, b, "v1", (e) => e instanceof McpError);
  const to = transport(B, OTHER, ta.sessionId);
  const o = await client(to);
  const e2 = await rejects(o.listTools());
  check(e2 !== null && /404/.test(String(e2.code ?? e2.message)), "another team's key cannot use the session", e2?.message);
  await o.close();

  // ---- end the session on A; B's next call fails ----
  await ta.terminateSession();
  await a.close();
  const e3 = await rejects(b.listTools());
  check(e3 !== null && /404/.test(String(e3.code ?? e3.message)), "an ended session is gone on every replica", e3?.message);
  await b.close();
}

run("mcp e2e", main);
