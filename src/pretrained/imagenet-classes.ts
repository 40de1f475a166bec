import classes from './imagenet-classes.json' with { type: 'json' };

/**
 * ImageNet's 1,000 class names in output order: torchvision's `_IMAGENET_CATEGORIES`
 * (torchvision/models/_meta.py, the list its IMAGENET1K_V1 weights carry), committed as imagenet-classes.json.
 */
export const IMAGENET_CLASSES: readonly string[] = classes;

/** The class names of a network with `count` outputs: ImageNet's for 1000, else "class 1" … "class N". */
export function classNamesFor(count: number): string[] {
  return count === IMAGENET_CLASSES.length ? [...IMAGENET_CLASSES] : Array.from({ length: count }, (_, i) => `class ${i + 1}`);
}

/** torchvision's ImageNet normalisation ((x/255 − mean)/std) on our 0–255 pixel scale: mean×255, std×255. */
export const TORCHVISION_NORM = {
  mean: [0.485 * 255, 0.456 * 255, 0.406 * 255] as [number, number, number],
  std: [0.229 * 255, 0.224 * 255, 0.225 * 255] as [number, number, number],
};

/** Caffe's BVLC AlexNet input rule (BGR, minus the per-channel ImageNet mean 104/117/123 in B,G,R), in our RGB order. */
export const CAFFE_MEAN_RGB: [number, number, number] = [123, 117, 104];
