// The Library's types, straight from the engine's contract (src/api/datasets.ts is the truth).
import { mediaUrl } from '../api';
export type {
  ClassSummary,
  DatasetDetail,
  DatasetSummary,
  ImageDetail,
  ImageListItem,
  ImportFinished,
  ImportJob,
  ImportProgress,
  SkippedFile,
  SplitName,
  SplitRequest,
} from '../../../../src/api/datasets';

/** Status filter of the gallery (mirrors `images.list`'s `status`). */
export type StatusFilter = 'ok' | 'excluded' | 'all';

/** The splits in display order. */
export const SPLITS = ['train', 'val', 'test'] as const;

/** A change `images.update` can make to a set of images. */
export interface ImageChange {
  classId?: number;
  split?: 'train' | 'val' | 'test';
  excluded?: boolean;
}

/** The message of any thrown value, for showing to a user. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The webp thumbnail of an image (longer side ≤ 256 px). */
export function thumbUrl(imageId: number): string {
  return mediaUrl(`/media/thumb/${imageId}`);
}

/** The original image (TIFF re-encoded by the engine). */
export function imageUrl(imageId: number): string {
  return mediaUrl(`/media/image/${imageId}`);
}
