#!/usr/bin/env node
// The contract test (ctest contract.openapi): validates every response the
// integration tests received against docs/openapi.yaml.
//
// The integration harness appends one JSON line per response to the file
// named by HP_IT_RECORD ({method, path, status, content_type, headers, body};
// tests/integration/hp_itest.c). For each line this finds the operation the
// server routed it to (matching path templates the way api/api_http.c does:
// a parameter may contain '/', and routes with a suffix win), then the
// documented response for the status, and checks
//   - that the status is documented for that operation,
//   - that the Content-Type is one the response documents,
//   - that every required response header is present and valid,
//   - that a JSON body validates against the response's schema (JSON Schema
//     2020-12, ajv strict mode), and that every event of an event stream is
//     one the media type's x-sse-events lists, with valid JSON data.
// A path no route has must answer components/responses/UnknownRoute, a method
// a path does not serve components/responses/MethodNotAllowed.
// Finally every documented operation must have been exercised at least once.
// Exit status 0 only when all of this holds.
//
// Usage: node check.mjs [--spec docs/openapi.yaml] [--record responses.jsonl]

import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const specPath = resolve(opt('--spec', resolve(here, '../../docs/openapi.yaml')));
const recordPath = opt('--record', process.env.HP_IT_RECORD);

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const SPEC_ID = 'urn:holdpoint:openapi';

function die(msg) {
  console.error(`contract.openapi: FAILED: ${msg}`);
  process.exit(1);
}

if (!recordPath) die('HP_IT_RECORD is not set; run the suite with make test (scripts/test.sh sets it)');
if (!existsSync(recordPath)) die(`no recording at ${recordPath}: did the integration tests run first?`);

const spec = YAML.parse(readFileSync(specPath, 'utf8'));

// ---- references ----------------------------------------------------------

function pointer(doc, ref) {
  if (!ref.startsWith('#/')) throw new Error(`only local references are supported: ${ref}`);
  let node = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) throw new Error(`dangling $ref ${ref}`);
    node = node[key];
  }
  return node;
}

// A Reference Object (response, header, parameter) followed to its target.
function deref(obj) {
  for (let i = 0; obj && typeof obj === 'object' && typeof obj.$ref === 'string' && i < 16; i++)
    obj = pointer(spec, obj.$ref);
  return obj;
}

// Schemas: components.schemas become $defs of one registered schema, and
// every "#/components/schemas/X" reference points there.
function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/'))
      out[k] = `${SPEC_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`;
    else out[k] = rewriteRefs(v);
  }
  return out;
}

const ajv = new Ajv2020({
  strict: true,
  strictTypes: false, // "allOf + narrowing properties" without a repeated type
  allowUnionTypes: true, // type: [string, 'null']
  strictRequired: false, // "oneOf: [{required: [a]}, {required: [b]}]" (exactly one of)
  allErrors: true,
});
addFormats(ajv);
// OpenAPI 3.1 schema-object keywords that are annotations for a validator.
ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
try {
  ajv.addSchema({ $id: SPEC_ID, $defs: rewriteRefs(spec.components?.schemas ?? {}) });
  // Compile every component up front so a broken schema fails even if unused.
  for (const name of Object.keys(spec.components?.schemas ?? {})) ajv.getSchema(`${SPEC_ID}#/$defs/${name}`);
} catch (e) {
  die(`docs/openapi.yaml schemas do not compile: ${e.message}`);
}

const compiled = new Map();
function validatorFor(key, schema) {
  if (!compiled.has(key)) compiled.set(key, ajv.compile(rewriteRefs(schema)));
  return compiled.get(key);
}

// ---- routing (as api/api_http.c) ------------------------------------------

const routes = []; // {template, prefix, suffix, literal, ops}
// A path item that is a $ref to another path ('#/paths/~1mcp') serves the
// same operations under a second path.
function pathItem(item) {
  if (typeof item?.$ref !== 'string') return item;
  const m = /^#\/paths\/(.+)$/.exec(item.$ref);
  const target = m && spec.paths[m[1].replace(/~1/g, '/').replace(/~0/g, '~')];
  if (!target) die(`path item $ref ${item.$ref} does not name another path`);
  return target;
}

for (const [template, ref] of Object.entries(spec.paths ?? {})) {
  const item = pathItem(ref);
  const m = /^(.*?)\{[^}]+\}(.*)$/.exec(template);
  if (m && /\{/.test(m[2])) die(`${template}: more than one path parameter is not routed by the server`);
  routes.push({
    template,
    literal: !m,
    prefix: m ? m[1] : template,
    suffix: m ? m[2] : '',
    ops: Object.fromEntries(METHODS.filter((x) => item[x]).map((x) => [x.toUpperCase(), item[x]])),
  });
}
// Literal paths first, then longer suffixes before shorter ones.
routes.sort((a, b) => (a.literal === b.literal ? b.suffix.length - a.suffix.length : a.literal ? -1 : 1));

function matches(route, path) {
  if (route.literal) return path === route.prefix;
  return (
    path.length > route.prefix.length + route.suffix.length &&
    path.startsWith(route.prefix) &&
    path.endsWith(route.suffix)
  );
}

function route(method, path) {
  const known = routes.filter((r) => matches(r, path));
  for (const r of known)
    if (r.ops[method]) return { key: `${method} ${r.template}`, responses: r.ops[method].responses ?? {} };
  const fallback = known.length ? 'MethodNotAllowed' : 'UnknownRoute';
  const resp = spec.components?.responses?.[fallback];
  if (!resp) die(`components/responses/${fallback} is missing from the spec`);
  return {
    key: known.length ? `${method} ${known[0].template} (method not served)` : `${method} (unknown path)`,
    fallback: true,
    responses: { [known.length ? '405' : '404']: resp },
  };
}

// ---- checking one response -------------------------------------------------

const essence = (ct) => (ct ?? '').split(';')[0].trim().toLowerCase();
const isJson = (ct) => /^application\/(.+\+)?json$/.test(essence(ct));

function mediaFor(content, ct) {
  if (!content) return null;
  if (ct && content[ct]) return [ct, content[ct]];
  for (const [k, v] of Object.entries(content)) if (essence(k) === essence(ct)) return [k, v];
  return null;
}

function schemaErrors(validate, value) {
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => {
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${e.params.additionalProperty})`
        : e.keyword === 'enum' || e.keyword === 'const'
          ? ` (${JSON.stringify(e.params.allowedValues ?? e.params.allowedValue)})`
          : '';
    return `${e.instancePath || '/'} ${e.message}${extra}`;
  });
}

// Errors for value against schema. A schema that is only a choice (oneOf or
// anyOf, maybe behind $refs) reports the alternative that came closest, so a
// drifted field reads as one line instead of every branch's complaints.
function explain(key, schema, value) {
  const validate = validatorFor(key, schema);
  if (validate(value)) return [];
  let s = schema;
  let name = null;
  while (s && typeof s.$ref === 'string' && s.$ref.startsWith('#/components/schemas/')) {
    name = s.$ref.slice('#/components/schemas/'.length);
    s = pointer(spec, s.$ref);
  }
  const alts = s?.oneOf ?? s?.anyOf;
  const onlyChoice = alts && Object.keys(s).every((k) => ['oneOf', 'anyOf', 'description', 'title'].includes(k));
  if (onlyChoice) {
    const tried = alts.map((b, i) => {
      const label = typeof b.$ref === 'string' ? b.$ref.split('/').pop() : `${name ?? 'alternative'} #${i}`;
      return { label, errs: explain(`${key}|${i}`, b, value) };
    });
    if (tried.every((t) => t.errs.length > 0)) {
      const best = tried.reduce((a, b) => (b.errs.length < a.errs.length ? b : a));
      return best.errs.map((e) => (e.startsWith('[as ') ? e : `[as ${best.label}] ${e}`));
    }
  }
  return [...new Set(schemaErrors(validate, value))];
}

function parseSse(text) {
  const events = [];
  let cur = { event: 'message', data: [] };
  for (const line of text.split(/\r?\n/)) {
    if (line === '') {
      if (cur.data.length) events.push({ event: cur.event, data: cur.data.join('\n') });
      cur = { event: 'message', data: [] };
    } else if (line.startsWith(':')) {
      // comment (keep-alive, "wait ended")
    } else {
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') cur.event = value;
      else if (field === 'data') cur.data.push(value);
      // retry, id: nothing to check
    }
  }
  if (cur.data.length) events.push({ event: cur.event, data: cur.data.join('\n') });
  return events;
}

function checkHeaders(respKey, resp, headers) {
  const problems = [];
  for (const [name, h0] of Object.entries(resp.headers ?? {})) {
    const h = deref(h0);
    const value = headers?.[name.toLowerCase()];
    if (value === undefined) {
      if (h.required) problems.push(`required header ${name} is missing`);
      continue;
    }
    if (h.schema) {
      const s = deref(h.schema);
      const resolved = s.$ref ? pointer(spec, s.$ref) : s;
      const numeric = resolved.type === 'integer' || resolved.type === 'number';
      const v = numeric && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
      const errs = schemaErrors(validatorFor(`${respKey} header ${name}`, h.schema), v);
      if (errs.length) problems.push(`header ${name}: ${JSON.stringify(value)}: ${errs.join('; ')}`);
    }
  }
  return problems;
}

function checkOne(rec) {
  const r = route(rec.method, rec.path);
  const status = String(rec.status);
  const resp0 = r.responses[status] ?? r.responses[`${status[0]}XX`] ?? r.responses.default;
  if (!resp0) return { op: r.key, status, problems: [`status ${status} is not documented for ${r.key}`] };
  const resp = deref(resp0);
  const respKey = `${r.key} ${status}`;
  const problems = checkHeaders(respKey, resp, rec.headers);

  if (!resp.content) {
    if (rec.body) problems.push('the response documents no body, but one was sent');
    return { op: r.key, status, problems, fallback: r.fallback };
  }
  const found = mediaFor(resp.content, rec.content_type);
  if (!found) {
    problems.push(
      `Content-Type ${JSON.stringify(rec.content_type)} is not documented (documented: ${Object.keys(resp.content).join(', ')})`,
    );
    return { op: r.key, status, problems, fallback: r.fallback };
  }
  const [mt, media] = found;
  if (isJson(mt)) {
    let body;
    try {
      body = JSON.parse(rec.body);
    } catch (e) {
      problems.push(`the body is not JSON: ${e.message}`);
    }
    if (body !== undefined && media.schema) {
      const errs = explain(`${respKey} ${mt}`, media.schema, body);
      problems.push(...errs.map((e) => `body ${e}`));
    }
  } else if (essence(mt) === 'text/event-stream') {
    const kinds = media['x-sse-events'] ?? {};
    for (const ev of parseSse(rec.body ?? '')) {
      if (!kinds[ev.event]) {
        problems.push(`event "${ev.event}" is not listed in x-sse-events (${Object.keys(kinds).join(', ')})`);
        continue;
      }
      let data;
      try {
        data = JSON.parse(ev.data);
      } catch (e) {
        problems.push(`event "${ev.event}": data is not JSON: ${e.message}`);
        continue;
      }
      const errs = explain(`${respKey} sse ${ev.event}`, kinds[ev.event], data);
      problems.push(...errs.map((e) => `event "${ev.event}" data ${e}`));
    }
  }
  return { op: r.key, status, problems, fallback: r.fallback };
}

// ---- main ------------------------------------------------------------------

const lines = readFileSync(recordPath, 'utf8').split('\n').filter((l) => l.trim() !== '');
if (lines.length === 0) die(`the recording ${recordPath} is empty`);

const seen = new Map(); // op -> Map(status -> count)
const failures = new Map(); // signature -> {count, example}
let checked = 0;
lines.forEach((line, i) => {
  let rec;
  try {
    rec = JSON.parse(line);
  } catch (e) {
    failures.set(`line ${i + 1}`, { count: 1, text: `${recordPath}:${i + 1}: not JSON: ${e.message}` });
    return;
  }
  if (!rec.status) return; // transport failure: nothing answered
  checked++;
  const res = checkOne(rec);
  if (!seen.has(res.op)) seen.set(res.op, new Map());
  seen.get(res.op).set(res.status, (seen.get(res.op).get(res.status) ?? 0) + 1);
  if (res.problems.length === 0) return;
  const sig = `${res.op} -> ${res.status}: ${res.problems.join(' | ')}`;
  const f = failures.get(sig);
  if (f) {
    f.count++;
    return;
  }
  const body = (rec.body ?? '').length > 800 ? `${rec.body.slice(0, 800)}… (${rec.body.length} bytes)` : rec.body;
  failures.set(sig, {
    count: 1,
    text:
      `${rec.method} ${rec.path} -> ${rec.status} (${res.op}), Content-Type ${rec.content_type}\n` +
      res.problems.map((p) => `    - ${p}`).join('\n') +
      `\n    body: ${String(body).replace(/\n/g, '\n          ')}`,
  });
});

// Coverage: every documented operation must have been exercised.
const unexercised = [];
const statusGaps = [];
for (const r of routes) {
  for (const [method, op] of Object.entries(r.ops)) {
    const key = `${method} ${r.template}`;
    if (!seen.has(key)) {
      unexercised.push(key);
      continue;
    }
    for (const st of Object.keys(op.responses ?? {}))
      if (!seen.get(key).has(st)) statusGaps.push(`${key} ${st}`);
  }
}

console.log(`contract.openapi: ${checked} responses from ${recordPath} checked against ${specPath}`);
for (const [op, statuses] of [...seen.entries()].sort()) {
  const s = [...statuses.entries()].sort().map(([st, n]) => `${st}×${n}`).join(' ');
  console.log(`  ${op}: ${s}`);
}
if (statusGaps.length) {
  console.log(`documented responses no test produced (${statusGaps.length}, not a failure):`);
  for (const g of statusGaps) console.log(`  ${g}`);
}

let failed = false;
if (failures.size) {
  failed = true;
  console.error(`\nresponses that break the contract (${failures.size} distinct):`);
  for (const f of failures.values())
    console.error(`  ${f.text}${f.count > 1 ? `\n    (${f.count} responses like this)` : ''}`);
}
if (unexercised.length) {
  failed = true;
  console.error(`\ndocumented operations no integration test exercised (${unexercised.length}):`);
  for (const u of unexercised) console.error(`  ${u}`);
}
if (failed) die('see above');
console.log('contract.openapi: PASSED');
