import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../../scripts/folder-imports.mjs', import.meta.url));

interface FolderImports {
  edges: Array<{ from: string; to: string; typeOnly: boolean; imports: string[] }>;
  circles: string[][];
  circleEdges: Array<{ edge: string; circle: string }>;
  upward: string[];
}

/**
 * Imports between folders that are known to be wrong: each closes a circle or goes up a layer
 * (scripts/folder-imports.mjs has the layers). Every other circle or upward import fails this test, so a
 * new one is seen the day it is written; an entry that no longer exists fails too, so the list stays true.
 * None is left: add one only with a comment saying what would remove it.
 */
const KNOWN: Record<string, string> = {};

function folderImports(): FolderImports {
  return JSON.parse(execFileSync(process.execPath, [script, '--json'], { encoding: 'utf8' })) as FolderImports;
}

describe('imports between the folders of src/', () => {
  const graph = folderImports();
  const edges = new Set(graph.edges.map((e) => `${e.from} → ${e.to}`));

  it('go up a layer only where the known list says so', () => {
    expect(graph.upward.filter((e) => !(e in KNOWN))).toEqual([]);
  });

  it('make no circle that does not pass through a known import', () => {
    const json = execFileSync(process.execPath, [script, '--json', `--without=${Object.keys(KNOWN).join(',')}`], { encoding: 'utf8' });
    const rest = JSON.parse(json) as FolderImports;
    expect(rest.circleEdges.map((c) => `${c.edge}  (${c.circle})`)).toEqual([]);
  });

  it('list only imports that still exist', () => {
    expect(Object.keys(KNOWN).filter((e) => !edges.has(e))).toEqual([]);
  });

  it('are found by the script, type-only ones included', () => {
    // Guards the script itself: studio.ts wires every feature's handlers, and the CLI opens a studio.
    expect(edges).toContain('studio.ts → train');
    expect(edges).toContain('cli → studio.ts');
    expect(graph.edges.find((e) => e.from === 'classify' && e.to === 'library')?.typeOnly).toBe(true);
  });
});
