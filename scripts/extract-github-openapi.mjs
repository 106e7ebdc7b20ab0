#!/usr/bin/env node
// Extracts, from GitHub's own REST API description (the npm package @octokit/openapi, pinned
// below), the operations valkey-bot's client and sandbox use plus every schema they reference,
// and writes crates/sandbox/openapi/github-subset.json for the contract test.
//
// What it does to GitHub's data, and nothing more:
// - keeps only the operations in OPERATIONS; their responses, request bodies and examples, with
//   `$ref`s to components/responses and components/examples resolved in place;
// - keeps the components/schemas those reference (transitively), still as `$ref`s;
// - turns OpenAPI 3.0 specifics into JSON Schema: `nullable: true` becomes a `null` type (or an
//   `anyOf` with `{"type": "null"}`), and drops keywords a validator does not need (descriptions,
//   titles, schema-level examples, `x-*` extensions, `discriminator`, `xml`, `externalDocs`).
//
// Regenerate (needs npm and network; never run by the tests):
//   npm install --prefix /tmp/github-openapi --no-save @octokit/openapi@23.0.2
//   node scripts/extract-github-openapi.mjs /tmp/github-openapi/node_modules/@octokit/openapi
//
// To pin another version, change PINNED_VERSION and REGENERATE together, run both commands and
// review the diff of the vendored file.

import { readFileSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const PINNED_PACKAGE = "@octokit/openapi";
const PINNED_VERSION = "23.0.2";
const REGENERATE = [
  `npm install --prefix /tmp/github-openapi --no-save ${PINNED_PACKAGE}@${PINNED_VERSION}`,
  "node scripts/extract-github-openapi.mjs /tmp/github-openapi/node_modules/@octokit/openapi",
];

// [method, path template] of every operation the client calls or the sandbox serves (and those
// being added), exactly as GitHub's description spells the template.
const OPERATIONS = [
  ["get", "/app"],
  ["get", "/app/installations/{installation_id}"],
  ["post", "/app/installations/{installation_id}/access_tokens"],
  ["delete", "/installation/token"],
  ["get", "/user"],
  ["get", "/users/{username}"],
  ["get", "/repos/{owner}/{repo}"],
  ["get", "/repos/{owner}/{repo}/installation"],
  ["get", "/repos/{owner}/{repo}/git/ref/{ref}"],
  ["post", "/repos/{owner}/{repo}/git/refs"],
  ["get", "/repos/{owner}/{repo}/git/matching-refs/{ref}"],
  ["patch", "/repos/{owner}/{repo}/git/refs/{ref}"],
  ["delete", "/repos/{owner}/{repo}/git/refs/{ref}"],
  ["post", "/repos/{owner}/{repo}/git/blobs"],
  ["get", "/repos/{owner}/{repo}/git/blobs/{file_sha}"],
  ["post", "/repos/{owner}/{repo}/git/trees"],
  ["get", "/repos/{owner}/{repo}/git/trees/{tree_sha}"],
  ["post", "/repos/{owner}/{repo}/git/commits"],
  ["get", "/repos/{owner}/{repo}/git/commits/{commit_sha}"],
  ["get", "/repos/{owner}/{repo}/commits/{ref}"],
  ["get", "/repos/{owner}/{repo}/contents/{path}"],
  ["get", "/repos/{owner}/{repo}/compare/{basehead}"],
  ["get", "/repos/{owner}/{repo}/pulls"],
  ["post", "/repos/{owner}/{repo}/pulls"],
  ["get", "/repos/{owner}/{repo}/pulls/{pull_number}"],
  ["patch", "/repos/{owner}/{repo}/pulls/{pull_number}"],
  ["get", "/repos/{owner}/{repo}/issues"],
  ["post", "/repos/{owner}/{repo}/issues"],
  ["get", "/repos/{owner}/{repo}/issues/{issue_number}"],
  ["patch", "/repos/{owner}/{repo}/issues/{issue_number}"],
  ["get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"],
  ["post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"],
  ["post", "/repos/{owner}/{repo}/issues/{issue_number}/labels"],
  ["delete", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"],
  ["get", "/repos/{owner}/{repo}/labels"],
  ["post", "/repos/{owner}/{repo}/labels"],
  ["get", "/repos/{owner}/{repo}/labels/{name}"],
  ["get", "/repos/{owner}/{repo}/rules/branches/{branch}"],
  ["get", "/repos/{owner}/{repo}/rulesets/{ruleset_id}"],
  ["post", "/repos/{owner}/{repo}/dispatches"],
  ["post", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"],
  ["get", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs"],
  ["get", "/repos/{owner}/{repo}/actions/runs/{run_id}"],
  ["get", "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs"],
];

// Schemas every answer may fall back to (errors GitHub can give on any operation).
const ALWAYS = ["basic-error", "validation-error"];

// Keywords a JSON Schema validator does not need.
const DROPPED = new Set([
  "description",
  "title",
  "example",
  "examples",
  "externalDocs",
  "discriminator",
  "xml",
  "deprecated",
  "readOnly",
  "writeOnly",
  "default",
]);

function fail(message) {
  console.error(`extract-github-openapi: ${message}`);
  process.exit(1);
}

const packageDir = process.argv[2];
if (!packageDir || process.argv.length > 3) {
  fail(`usage: node scripts/extract-github-openapi.mjs <dir of ${PINNED_PACKAGE}>`);
}
let manifest;
try {
  manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
} catch (error) {
  fail(`${join(packageDir, "package.json")}: ${error.message}`);
}
if (manifest.name !== PINNED_PACKAGE || manifest.version !== PINNED_VERSION) {
  fail(
    `${packageDir} holds ${manifest.name}@${manifest.version}; the pinned source is ` +
      `${PINNED_PACKAGE}@${PINNED_VERSION} (change PINNED_VERSION to move the pin)`,
  );
}
const sourceFile = join(packageDir, "generated", "api.github.com.json");
const description = JSON.parse(readFileSync(sourceFile, "utf8"));

function pointer(ref) {
  if (!ref.startsWith("#/")) fail(`unsupported $ref ${ref}`);
  let node = description;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    node = node?.[key];
  }
  if (node === undefined) fail(`dangling $ref ${ref}`);
  return node;
}

const schemaName = (ref) => {
  const prefix = "#/components/schemas/";
  if (!ref.startsWith(prefix)) fail(`a schema $ref outside components/schemas: ${ref}`);
  return ref.slice(prefix.length);
};

// Names of the components/schemas reached so far, and those still to convert.
const reached = new Set();
const pending = [];
function reach(name) {
  if (!reached.has(name)) {
    reached.add(name);
    pending.push(name);
  }
}

// One schema, converted: OpenAPI 3.0 → JSON Schema, unneeded keywords dropped, refs recorded.
function convert(schema) {
  if (Array.isArray(schema)) return schema.map(convert);
  if (schema === null || typeof schema !== "object") return schema;
  if (schema.$ref) {
    reach(schemaName(schema.$ref));
    return { $ref: schema.$ref };
  }
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED.has(key) || key.startsWith("x-") || key === "nullable") continue;
    if (key === "properties" || key === "patternProperties") {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, property]) => [name, convert(property)]),
      );
    } else if (["items", "additionalProperties", "not"].includes(key)) {
      out[key] = typeof value === "object" ? convert(value) : value;
    } else if (["allOf", "anyOf", "oneOf"].includes(key)) {
      out[key] = value.map(convert);
    } else {
      out[key] = value;
    }
  }
  if (schema.nullable === true) {
    if (typeof out.type === "string") {
      out.type = [out.type, "null"];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    } else {
      return { anyOf: [out, { type: "null" }] };
    }
  }
  return out;
}

// An example value, with its $ref (components/examples) resolved.
function example(node) {
  const resolved = node.$ref ? pointer(node.$ref) : node;
  return resolved.value;
}

function content(media) {
  const out = {};
  for (const [type, body] of Object.entries(media ?? {})) {
    const entry = {};
    if (body.schema) entry.schema = convert(body.schema);
    if (body.examples) {
      entry.examples = Object.fromEntries(
        Object.entries(body.examples).map(([name, node]) => [name, example(node)]),
      );
    } else if (body.example !== undefined) {
      entry.examples = { default: body.example };
    }
    out[type] = entry;
  }
  return out;
}

const paths = {};
for (const [method, template] of OPERATIONS) {
  const operation = description.paths[template]?.[method];
  if (!operation) fail(`${method.toUpperCase()} ${template} is not in ${sourceFile}`);
  const responses = {};
  for (const [status, raw] of Object.entries(operation.responses)) {
    const response = raw.$ref ? pointer(raw.$ref) : raw;
    responses[status] = response.content ? { content: content(response.content) } : {};
  }
  const kept = { operationId: operation.operationId, responses };
  if (operation.requestBody) {
    const body = operation.requestBody.$ref
      ? pointer(operation.requestBody.$ref)
      : operation.requestBody;
    kept.requestBody = { required: body.required === true, content: content(body.content) };
  }
  paths[template] ??= {};
  paths[template][method] = kept;
}
ALWAYS.forEach(reach);

const schemas = {};
while (pending.length > 0) {
  const name = pending.shift();
  schemas[name] = convert(pointer(`#/components/schemas/${name}`));
}
const sorted = Object.fromEntries(Object.keys(schemas).sort().map((name) => [name, schemas[name]]));

const vendored = {
  "x-vendored": {
    note: "GitHub's data, extracted by scripts/extract-github-openapi.mjs; do not edit by hand",
    source: `${PINNED_PACKAGE}@${PINNED_VERSION} (npm), file generated/api.github.com.json`,
    upstream: "https://github.com/github/rest-api-description",
    license:
      "MIT (GitHub's REST API description, github/rest-api-description; Octokit's packaging, " +
      "@octokit/openapi, MIT, Copyright (c) 2020 Octokit contributors). See LICENSE-github-openapi.txt.",
    regenerate: REGENERATE,
  },
  openapi: description.openapi,
  info: { title: description.info.title, version: description.info.version },
  paths,
  components: { schemas: sorted },
};

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "..", "crates", "sandbox", "openapi", "github-subset.json");
writeFileSync(target, `${JSON.stringify(vendored, null, 1)}\n`);
console.log(
  `wrote ${target}: ${OPERATIONS.length} operations, ${Object.keys(sorted).length} schemas`,
);
