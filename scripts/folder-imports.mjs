#!/usr/bin/env node
// The folder-level import graph of src/ and main/: which top-level folder (train/, evaluate/, …) imports which,
// the circles between folders, and the imports that go from a lower layer up to a higher one (see LAYERS).
// No dependency: it reads the import lines itself.
//   node scripts/folder-imports.mjs            the graph, the circles, the upward imports
//   node scripts/folder-imports.mjs --edges    the same, with the file-level imports behind each edge
//   node scripts/folder-imports.mjs --json [--without='a → b,c → d']   for test/unit/scripts/folder-imports.test.ts,
//                                              which fails on a circle or upward import its allow-list does not name
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The layers, lowest first: a folder may import its own layer's folders and the layers below, never above.
 * src/api is the contract; model/, images/, backends/ are the engine's lower layers; runs/ is what a run is on disk
 * and in SQLite (its row, config, snapshot, checkpoint), read by every feature; the features build on them;
 * the hosts (server/, cli/, and studio.ts, which wires the features into one dispatch) sit on top.
 * Files directly in src/ are nodes of their own (`studio.ts`, `version.ts`); main/ (Electron's main process) is `main`.
 */
export const LAYERS = [
  ['version.ts', 'api'],
  ['library', 'model', 'images', 'backends'],
  ['runs'],
  ['datasets', 'train', 'evaluate', 'classify', 'insight', 'interchange', 'pretrained'],
  ['studio.ts', 'server', 'cli', 'main'],
];

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(type\s+)?(?:[\w*{}\s,$]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Every .ts file under `dir`. */
function tsFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

/** The node a file belongs to: its top-level folder of src/ (or its own name, directly in src/); `main` for main/. */
function nodeOf(srcDir, file) {
  const rel = path.relative(srcDir, file);
  return rel.startsWith('..') ? 'main' : rel.split(path.sep)[0];
}

/**
 * The folder graph of src/ and main/: edges `from → to` with the file-level imports that make each, and
 * whether all of them are type-only. Imports of anything else (node_modules, renderer/) are not part of it.
 */
export function folderGraph(srcDir = path.join(root, 'src'), mainDir = path.join(root, 'main')) {
  /** @type {Map<string, Map<string, { imports: string[]; typeOnly: boolean }>>} */
  const edges = new Map();
  const nodes = new Set();
  for (const file of [...tsFiles(srcDir), ...tsFiles(mainDir)]) {
    const from = nodeOf(srcDir, file);
    nodes.add(from);
    const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[2] ?? m[3];
      const target = path.resolve(path.dirname(file), spec);
      if (path.relative(srcDir, target).startsWith('..') && path.relative(mainDir, target).startsWith('..')) {
        continue;
      }
      const to = nodeOf(srcDir, target.replace(/\.js$/, '.ts'));
      if (to === from) {
        continue;
      }
      const out = edges.get(from) ?? new Map();
      edges.set(from, out);
      const edge = out.get(to) ?? { imports: [], typeOnly: true };
      out.set(to, edge);
      edge.imports.push(`${path.relative(root, file).split(path.sep).join('/')} → ${spec}`);
      edge.typeOnly &&= Boolean(m[1]);
    }
  }
  return { nodes: [...nodes].sort(), edges };
}

/**
 * The strongly connected groups of folders with more than one member: within each, every folder reaches
 * every other through imports, i.e. they sit on one circle or several. Sorted, each group sorted.
 */
export function circles(graph, without = new Set()) {
  const next = (n) => [...(graph.edges.get(n)?.keys() ?? [])].filter((to) => !without.has(`${n} → ${to}`)).sort();
  // Tarjan's algorithm; the graph has a few dozen nodes, recursion is fine.
  const index = new Map();
  const low = new Map();
  const stack = [];
  const groups = [];
  const visit = (n) => {
    index.set(n, index.size);
    low.set(n, index.get(n));
    stack.push(n);
    for (const to of next(n)) {
      if (!index.has(to)) {
        visit(to);
        low.set(n, Math.min(low.get(n), low.get(to)));
      } else if (stack.includes(to)) {
        low.set(n, Math.min(low.get(n), index.get(to)));
      }
    }
    if (low.get(n) === index.get(n)) {
      const group = stack.splice(stack.indexOf(n));
      if (group.length > 1) {
        groups.push(group.sort());
      }
    }
  };
  graph.nodes.filter((n) => !index.has(n)).forEach(visit);
  return groups.sort((a, b) => a[0].localeCompare(b[0]));
}

/** One shortest circle through `from → to` (as `a → b → … → a`), or null when `to` does not lead back. */
export function circleThrough(graph, from, to, without = new Set()) {
  const next = (n) => [...(graph.edges.get(n)?.keys() ?? [])].filter((t) => !without.has(`${n} → ${t}`)).sort();
  const back = new Map([[to, null]]);
  for (const queue = [to]; queue.length; ) {
    const n = queue.shift();
    if (n === from) {
      const path = [];
      for (let at = from; at !== null; at = back.get(at)) {
        path.unshift(at);
      }
      return [from, ...path].join(' → ');
    }
    for (const t of next(n)) {
      if (!back.has(t)) {
        back.set(t, n);
        queue.push(t);
      }
    }
  }
  return null;
}

/** Every edge that lies on a circle, each with one shortest circle through it. */
export function circleEdges(graph, without = new Set()) {
  const out = [];
  for (const [from, tos] of graph.edges) {
    for (const to of tos.keys()) {
      const edge = `${from} → ${to}`;
      const circle = without.has(edge) ? null : circleThrough(graph, from, to, without);
      if (circle) {
        out.push({ edge, circle });
      }
    }
  }
  return out.sort((a, b) => a.edge.localeCompare(b.edge));
}

/** Edges from a folder to one in a higher layer, as `from → to`. */
export function upwardEdges(graph) {
  const layerOf = (n) => LAYERS.findIndex((l) => l.includes(n));
  const up = [];
  for (const [from, out] of graph.edges) {
    for (const to of out.keys()) {
      const [a, b] = [layerOf(from), layerOf(to)];
      if (a === -1 || b === -1 || b > a) {
        up.push(`${from} → ${to}`);
      }
    }
  }
  return up.sort();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const graph = folderGraph();
  if (process.argv.includes('--json')) {
    // --without=a → b,c → d: the circles left once those imports are gone.
    const without = new Set(process.argv.find((a) => a.startsWith('--without='))?.slice('--without='.length).split(',').filter(Boolean) ?? []);
    const edges = [...graph.edges].flatMap(([from, tos]) => [...tos].map(([to, e]) => ({ from, to, typeOnly: e.typeOnly, imports: e.imports })));
    console.log(JSON.stringify({ nodes: graph.nodes, edges, circles: circles(graph, without), circleEdges: circleEdges(graph, without), upward: upwardEdges(graph) }, null, 1));
    process.exit(0);
  }
  const showImports = process.argv.includes('--edges');
  console.log('Folder imports of src/ (from → to; "types" when only types are imported):');
  for (const from of graph.nodes) {
    const out = graph.edges.get(from) ?? new Map();
    const list = [...out.entries()].sort(([a], [b]) => a.localeCompare(b));
    console.log(`  ${from} → ${list.map(([to, e]) => (e.typeOnly ? `${to} (types)` : to)).join(', ') || '(nothing)'}`);
    if (showImports) {
      for (const [, e] of list) {
        e.imports.forEach((i) => console.log(`      ${i}`));
      }
    }
  }
  const groups = circles(graph);
  console.log(`\nFolders on circles (${groups.length} group(s)):`);
  groups.forEach((g) => console.log(`  ${g.join(', ')}`));
  const mutual = circleEdges(graph).filter(({ circle }) => circle.split(' → ').length === 3);
  console.log(`\nFolders that import each other (${mutual.length / 2}):`);
  mutual.filter(({ edge }) => edge.split(' → ')[0] < edge.split(' → ')[1]).forEach(({ circle }) => console.log(`  ${circle}`));
  const onCircles = circleEdges(graph);
  console.log(`\nImports on a circle, each with its shortest circle (${onCircles.length}):`);
  onCircles.forEach(({ edge, circle }) => console.log(`  ${edge.padEnd(28)} ${circle}`));
  const up = upwardEdges(graph);
  console.log(`\nImports from a lower layer up to a higher one (${up.length}):`);
  for (const u of up) {
    const [from, to] = u.split(' → ');
    console.log(`  ${u}: ${graph.edges.get(from).get(to).imports.join('; ')}`);
  }
}
