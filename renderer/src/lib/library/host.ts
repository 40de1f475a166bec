// What the host can do for imports: Electron gives real paths for dropped files and a folder picker;
// a browser cannot, so there the server reads a path typed into a field.

/** The Electron preload's file helpers (absent in browser mode). */
interface HostFiles {
  pathsForFiles(files: File[]): string[];
  pickPaths(kind: 'folders' | 'files'): Promise<string[]>;
}

function hostFiles(): HostFiles | null {
  const bridge = window.convnet as unknown as Partial<HostFiles> | undefined;
  return bridge && typeof bridge.pathsForFiles === 'function' && typeof bridge.pickPaths === 'function' ? (bridge as HostFiles) : null;
}

/** True when dropped files and folders can be turned into paths (Electron only). */
export function canDropPaths(): boolean {
  return hostFiles() !== null;
}

/** Absolute paths of files and folders dropped from the OS; empty in browser mode. */
export function pathsFromDrop(event: DragEvent): string[] {
  const host = hostFiles();
  const files = event.dataTransfer?.files;
  return host && files ? host.pathsForFiles(Array.from(files)) : [];
}

/** Opens the system folder picker; resolves to the chosen folders (none if cancelled or unsupported). */
export async function pickFolders(): Promise<string[]> {
  const host = hostFiles();
  return host ? host.pickPaths('folders') : [];
}
