/**
 * Tracks files dragged over a view (enter/leave pairs nest over child elements) and hands a drop to
 * `ondropfiles`. Every dragged-file event is claimed, so the browser never opens a dropped file in
 * place of the app; `accepts()` says whether a drop would be used now (the cursor shows it).
 */
export class FileDrop {
  dragging = $state(false);
  private depth = 0;

  constructor(
    private readonly accepts: () => boolean,
    private readonly ondropfiles: (event: DragEvent) => void,
  ) {}

  private static hasFiles(e: DragEvent): boolean {
    return e.dataTransfer?.types.includes('Files') ?? false;
  }

  readonly ondragenter = (e: DragEvent): void => {
    if (FileDrop.hasFiles(e)) {
      e.preventDefault();
      this.depth++;
      this.dragging = true;
    }
  };

  readonly ondragleave = (): void => {
    this.depth = Math.max(0, this.depth - 1);
    this.dragging = this.depth > 0;
  };

  readonly ondragover = (e: DragEvent): void => {
    if (FileDrop.hasFiles(e)) {
      e.preventDefault();
      if (e.dataTransfer) {
        e.dataTransfer.dropEffect = this.accepts() ? 'copy' : 'none';
      }
    }
  };

  readonly ondrop = (e: DragEvent): void => {
    if (!FileDrop.hasFiles(e)) {
      return;
    }
    e.preventDefault();
    this.depth = 0;
    this.dragging = false;
    this.ondropfiles(e);
  };
}
