#!/usr/bin/env bash
# Seed 000's curl commands against a running Holdpoint, pasted verbatim with
# only these swaps:
#   https://pushary.com           -> $HOLDPOINT_URL
#   $PUSHARY_API_KEY              -> $HOLDPOINT_API_KEY
#   the example callbackUrl       -> $CALLBACK_URL (a receiver the test runs)
#   abc-123 in the poll example   -> the correlationId the ask answered
# plus one extra: the timeout case asks with "timeoutSeconds": 2 so the test
# does not sit out the example's 50 seconds. A reviewer answers through the
# Reviewer API (curl too). Run by tests/integration/it_ask_curl.c, which
# starts the API, holdpoint-delivery and the callback receiver and then
# checks the callback and its signatures.
#
# env: HOLDPOINT_URL, HOLDPOINT_API_KEY, USER_TOKEN, CALLBACK_URL
# Prints one line per check; exits 0 only when every check passed.
set -uo pipefail

: "${HOLDPOINT_URL:?}" "${HOLDPOINT_API_KEY:?}" "${USER_TOKEN:?}" "${CALLBACK_URL:?}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
failures=0

check() { # check "what" test-expression...
    local what="$1"
    shift
    if "$@" >/dev/null; then
        echo "ok   $what"
    else
        echo "FAIL $what"
        failures=$((failures + 1))
    fi
}

# The reviewer answers the pending question with this text (decision JSON).
resolve() {
    local question="$1" decision="$2" id=""
    for _ in $(seq 1 200); do
        id="$(curl -sS "$HOLDPOINT_URL/v1/review/approvals?status=pending&limit=100" \
            -H "Authorization: Bearer $USER_TOKEN" |
            jq -r --arg q "$question" '.items[] | select(.question == $q) | .approval_id' | head -n 1)"
        [ -n "$id" ] && break
        sleep 0.05
    done
    [ -n "$id" ] || { echo "FAIL no pending question \"$question\" in the inbox"; return 1; }
    curl -sS -o /dev/null -w '%{http_code}' -X POST \
        "$HOLDPOINT_URL/v1/review/approvals/$id/resolve" \
        -H "Authorization: Bearer $USER_TOKEN" -H "Content-Type: application/json" \
        -d "$decision" | grep -q '^200$'
}

# True once the server holds a waiting request (its waiter gauge on /metrics).
waiting() {
    for _ in $(seq 1 400); do
        curl -sS "$HOLDPOINT_URL/metrics" | grep -Eq '^holdpoint_waiters [1-9]' && return 0
        sleep 0.05
    done
    return 1
}

# ---- Fire-and-forget notification — POST /send --------------------------------
curl -X POST $HOLDPOINT_URL/api/v1/server/send \
-H "Authorization: Bearer $HOLDPOINT_API_KEY" \
-H "Content-Type: application/json" \
-d '{"title":"Backfill finished","body":"Processed 12,400 rows with 0 errors."}' >"$out/send.json" 2>/dev/null
check "send answers its id" jq -e '.id | test("^[0-9a-f-]{36}$")' "$out/send.json"

# ---- Ask a question and wait for the answer (synchronous) — POST /ask ---------
curl -X POST $HOLDPOINT_URL/api/v1/server/ask \
-H "Authorization: Bearer $HOLDPOINT_API_KEY" \
-H "Content-Type: application/json" \
-d '{
"question": "Approve sending the campaign to all 4,000 contacts?",
"type": "confirm",
"agentName": "Marketing agent",
"wait": true,
"timeoutSeconds": 50
}' >"$out/ask_wait.json" 2>/dev/null &
asker=$!
check "a reviewer answers yes" resolve "Approve sending the campaign to all 4,000 contacts?" '{"option_index": 0}'
wait "$asker"
check "wait true: answered yes" jq -e '.status == "answered" and .answered == true and .value == "yes" and (.correlationId | length > 0)' "$out/ask_wait.json"

# ---- ... and nobody answers: timeout -------------------------------------------
curl -X POST $HOLDPOINT_URL/api/v1/server/ask \
-H "Authorization: Bearer $HOLDPOINT_API_KEY" \
-H "Content-Type: application/json" \
-d '{
"question": "Approve sending the campaign to all 4,000 contacts (again)?",
"type": "confirm",
"agentName": "Marketing agent",
"wait": true,
"timeoutSeconds": 2
}' >"$out/ask_timeout.json" 2>/dev/null
check "wait true: timeout, still open" jq -e '.status == "timeout" and .answered == false' "$out/ask_timeout.json"

# ---- Async answers with a webhook (wait false), then poll with ?wait=30 -------
curl -X POST $HOLDPOINT_URL/api/v1/server/ask \
-H "Authorization: Bearer $HOLDPOINT_API_KEY" \
-H "Content-Type: application/json" \
-d '{
"question": "Approve before the agent emails the customer?",
"wait": false,
"callbackUrl": "'"$CALLBACK_URL"'"
}' >"$out/ask_async.json" 2>/dev/null
check "wait false: pending with a pollUrl" jq -e '.status == "pending" and .pollUrl == (env.HOLDPOINT_URL + "/api/v1/server/ask/" + .correlationId)' "$out/ask_async.json"
cid="$(jq -r .correlationId "$out/ask_async.json")"
echo "$cid" >"${CORRELATION_FILE:-/dev/null}"

curl "$HOLDPOINT_URL/api/v1/server/ask/$cid?wait=30" \
-H "Authorization: Bearer $HOLDPOINT_API_KEY" >"$out/poll.json" 2>/dev/null &
poller=$!
check "the ?wait=30 poll is held by the server" waiting
check "a reviewer answers the async question" resolve "Approve before the agent emails the customer?" '{"option_index": 0}'
wait "$poller"
check "?wait=30 returns the answer" jq -e '.status == "answered" and .value == "yes"' "$out/poll.json"

# ---- Cancel a question you no longer need — DELETE /ask/{correlationId} --------
curl -X POST $HOLDPOINT_URL/api/v1/server/ask \
-H "Authorization: Bearer $HOLDPOINT_API_KEY" \
-H "Content-Type: application/json" \
-d '{
"question": "Approve the weekend deploy?",
"wait": false
}' >"$out/ask_cancel.json" 2>/dev/null
cid2="$(jq -r .correlationId "$out/ask_cancel.json")"
curl -X DELETE "$HOLDPOINT_URL/api/v1/server/ask/$cid2" \
-H "Authorization: Bearer $HOLDPOINT_API_KEY" >"$out/delete.json" 2>/dev/null
check "delete cancels" jq -e '.status == "cancelled" and .answered == false' "$out/delete.json"
curl "$HOLDPOINT_URL/api/v1/server/ask/$cid2" \
-H "Authorization: Bearer $HOLDPOINT_API_KEY" >"$out/after.json" 2>/dev/null
check "the cancelled question stays cancelled" jq -e '.status == "cancelled"' "$out/after.json"

echo "seed 000 curl: $failures failures"
exit $((failures > 0))
