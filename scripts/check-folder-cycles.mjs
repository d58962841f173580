// Fails when two folders of the app import from each other (lib/a → lib/b and lib/b → lib/a),
// a cycle one level above the modules (eslint's import/no-cycle catches module cycles). A
// folder is a top-level one (app, components, inngest) or one under lib/ (lib/payouts, …);
// lib's own root modules (db, env, errors, ids) are shared by all and do not count. Tests are
// left out. Run by `npm run lint`.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const ROOTS = ["app", "components", "inngest", "lib"];
/**
 * Known two-way dependencies still to untangle, each with why it is here. A cycle not listed
 * fails; a listed one that is gone fails too, so the list only shrinks.
 */
const KNOWN = new Map([]);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return files(full);
    return /\.(ts|tsx)$/.test(name) && !/\.test\.tsx?$/.test(name) ? [full] : [];
  });
}

function folderOf(file) {
  const parts = file.split(path.sep);
  if (parts[0] === "lib") return parts.length > 2 ? `lib/${parts[1]}` : null;
  return parts[0];
}

const edges = new Map();
for (const file of ROOTS.flatMap((root) => files(root))) {
  const from = folderOf(file);
  if (!from) continue;
  for (const [, target] of readFileSync(file, "utf8").matchAll(/from\s+"([^"]+)"/g)) {
    let resolved;
    if (target.startsWith("@/")) resolved = target.slice(2);
    else if (target.startsWith(".")) resolved = path.normalize(path.join(path.dirname(file), target));
    else continue;
    const to = folderOf(resolved);
    if (!to || to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    const example = edges.get(from);
    if (!example.has(to)) example.set(to, `${file} → ${target}`);
  }
}

const found = new Map();
for (const [a, targets] of edges) {
  for (const [b, example] of targets) {
    const back = edges.get(b)?.get(a);
    if (!back || a > b) continue;
    found.set(`${a} <-> ${b}`, [example, back]);
  }
}

let failed = false;
for (const [pair, [there, back]] of found) {
  if (KNOWN.has(pair)) continue;
  failed = true;
  console.error(`Folder cycle ${pair}:\n  ${there}\n  ${back}`);
}
for (const pair of KNOWN.keys()) {
  if (found.has(pair)) continue;
  failed = true;
  console.error(`Folder cycle ${pair} is gone: take it out of KNOWN in scripts/check-folder-cycles.mjs.`);
}
if (failed) process.exit(1);
console.log(`No new folder cycles (${KNOWN.size} known, listed in scripts/check-folder-cycles.mjs).`);
