// What the MCP SDK scenarios (mcp_client.mjs, mcp_modern_client.mjs) share:
// their environment, one printed line per check, the reviewer who decides a
// question through the Reviewer API, and the exit status.
//
// env: HP_URL_A, HP_URL_B   base URLs of two API replicas
//      HP_API_KEY           an agent's key (the bootstrap key: team-scoped)
//      HP_USER_TOKEN        a reviewer of the same team
//      HP_OTHER_KEY         a key of another team

import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
export const A = env("HP_URL_A"), B = env("HP_URL_B"), KEY = env("HP_API_KEY");
export const USER = env("HP_USER_TOKEN"), OTHER = env("HP_OTHER_KEY");
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let failures = 0;
export function check(ok, what, detail) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${ok || detail === undefined ? "" : `: ${JSON.stringify(detail)}`}`);
  if (!ok) failures++;
  return ok;
}

// The reviewer finds the pending question by its text and decides it.
export async function resolve(question, decision) {
  const h = { Authorization: `Bearer ${USER}` };
  for (let i = 0; i < 400; i++) {
    const r = await fetch(`${A}/v1/review/approvals?status=pending&limit=100`, { headers: h });
    const item = (await r.json()).items.find((x) => x.question === question);
    if (item) {
      const rr = await fetch(`${A}/v1/review/approvals/${item.approval_id}/resolve`, {
        method: "POST",
        headers: { ...h, "Content-Type": "application/json" },
        body: JSON.stringify(decision),
      });
      check(rr.status === 200, `reviewer resolved "${question}"`, await rr.text());
      return item;
    }
    await sleep(25);
  }
  throw new Error(`the question "${question}" never reached the reviewer inbox`);
}

// tools/list: exactly the five tools, each schema an object schema that
// compiles under JSON Schema 2020-12 (ajv strict).
export function checkTools(tools) {
  const names = tools.map((t) => t.name).sort();
  check(JSON.stringify(names) ===
    JSON.stringify(["ask_user", "cancel_question", "list_sessions", "send_notification", "wait_for_answer"]),
  "the five tools", names);
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  for (const t of tools) {
    for (const which of ["inputSchema", "outputSchema"]) {
      let ok = t[which]?.type === "object";
      try {
        ajv.compile(t[which]);
      } catch (e) {
        ok = false;
      }
      check(ok, `${t.name} ${which} is a valid JSON Schema`, t[which]);
    }
  }
}

// The steps both SDK generations run the same way, asking on client a and
// reading on client b: an input answered with text, cancel, a notification
// and the sessions (the tag names this run's: "e2e-<tag>-run" is the session
// the scenario's first ask_user named), invalid arguments, and an unknown
// tool, whose error isError tells apart.
export async function commonSteps(a, b, tag, isError) {
  const q3 = `Subject line ${tag} ${Date.now()}?`;
  const r5 = await a.callTool({ name: "ask_user", arguments: { question: q3, type: "input", wait: false } });
  await resolve(q3, { custom_instruction: "Meet the new dashboard" });
  const r6 = await b.callTool({ name: "wait_for_answer", arguments: { correlationId: r5.structuredContent.correlationId } });
  check(r6.structuredContent?.value === "Meet the new dashboard", "input answered with text", r6);

  const r7 = await a.callTool({ name: "ask_user", arguments: { question: `Cancel me ${Date.now()}`, wait: false } });
  const r8 = await b.callTool({ name: "cancel_question", arguments: { correlationId: r7.structuredContent.correlationId } });
  check(r8.structuredContent?.status === "cancelled", "cancel_question", r8);
  const r9 = await a.callTool({ name: "wait_for_answer", arguments: { correlationId: r7.structuredContent.correlationId, timeoutSeconds: 1 } });
  check(r9.structuredContent?.status === "cancelled", "a cancelled question stays cancelled", r9);

  const r10 = await a.callTool({
    name: "send_notification",
    arguments: { title: "Backfill finished", body: "12,400 rows", agentName: "e2e agent", sessionId: `e2e-${tag}-notes` },
  });
  check(!r10.isError && typeof r10.structuredContent?.id === "string", "send_notification", r10);
  const r11 = await b.callTool({ name: "list_sessions", arguments: { limit: 50 } });
  const ids = (r11.structuredContent?.sessions ?? []).map((s) => s.sessionId);
  check(ids.includes(`e2e-${tag}-notes`), "list_sessions shows the session the notification started", r11);
  check(ids.includes(`e2e-${tag}-run`), "list_sessions shows the session ask_user named", r11);

  const bad = await a.callTool({ name: "ask_user", arguments: { question: "q", type: "multiple" } });
  check(bad.isError === true && !bad.structuredContent, "invalid arguments are a tool error the model can read", bad);
  const e1 = await rejects(a.callTool({ name: "delete_everything", arguments: {} }));
  check(isError(e1) && e1.code === -32602, "an unknown tool is -32602", e1 && { name: e1.name, code: e1.code, message: e1.message });
}

// The error promise rejects with, or null when it resolves.
export async function rejects(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return e;
  }
}

// Runs main, counts an unexpected error as a failure, prints the summary
// line (label) and exits 0 only when every check passed.
export function run(label, main) {
  main()
    .catch((e) => {
      console.log(`FAIL unexpected error: ${e?.stack ?? e}`);
      failures++;
    })
    .finally(() => {
      console.log(failures === 0 ? `${label}: all checks passed` : `${label}: ${failures} failures`);
      process.exit(failures === 0 ? 0 : 1);
    });
}
