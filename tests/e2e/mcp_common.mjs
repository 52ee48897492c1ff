// What the MCP SDK scenarios (mcp_client.mjs, mcp_modern_client.mjs) share:
// their environment, one printed line per check, the reviewer who decides a
// question through the Reviewer API, and the exit status.
//
// env: HP_URL_A, HP_URL_B   base URLs of two API replicas
//      HP_API_KEY           an agent's key (the bootstrap key: team-scoped)
//      HP_USER_TOKEN        a reviewer of the same team
//      HP_OTHER_KEY         a key of another team

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
