// What the host can do for Classify: Electron turns dropped files into paths (and lets us preview dropped
// image files through blob: URLs) and opens pickers; a browser cannot, so there a path on the server is typed.
import { canDropPaths, pickFolders } from '../library/host';

export { canDropPaths, pickFolders };

/** Image extensions worth a blob preview (the CSP allows blob: images). */
const PREVIEWABLE = /\.(png|jpe?g|gif|webp|avif|bmp)$/i;

/** Paths of what was dropped, and blob: previews of the dropped image files (Electron only). */
export function dropPaths(event: DragEvent): { paths: string[]; previews: Map<string, string> } {
  const bridge = window.convnet;
  const files = event.dataTransfer?.files;
  const paths: string[] = [];
  const previews = new Map<string, string>();
  if (!bridge?.pathsForFiles || !files) {
    return { paths, previews };
  }
  for (const file of Array.from(files)) {
    const [p] = bridge.pathsForFiles([file]);
    if (p) {
      paths.push(p);
      // A folder comes through as a File too, with no type and no readable bytes: no preview for it.
      if (PREVIEWABLE.test(file.name) && file.type.startsWith('image/')) {
        previews.set(p, URL.createObjectURL(file));
      }
    }
  }
  return { paths, previews };
}

/** Opens the system file picker for images; resolves to the chosen files (none if cancelled or unsupported). */
export async function pickFiles(): Promise<string[]> {
  return window.convnet?.pickPaths ? window.convnet.pickPaths('files') : [];
}

/** Saves text as a file through the browser's download (Electron asks where to save it). */
export function downloadText(text: string, fileName: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
