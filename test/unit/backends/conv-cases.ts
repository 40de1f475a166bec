// Convolution shapes the kernel tests share (wasm against cpu, and the cpu project kernel against tfjs').
export type Pad = 'same' | 'valid' | number;
export interface ConvCase {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
}

// Strides 1–4, 'same'/'valid'/explicit padding, square and non-square kernels and images, 1×1 kernels.
// (tfjs sizes a numeric pad from the filter height alone, so numeric pads only go with square filters.)
export const CASES: ConvCase[] = [
  { x: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 9, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'valid' },
  { x: [3, 8, 8, 5], filter: [5, 5, 5, 6], strides: 1, pad: 'same' },
  { x: [2, 6, 6, 4], filter: [1, 1, 4, 7], strides: 1, pad: 'valid' },
  { x: [2, 10, 11, 3], filter: [5, 5, 3, 4], strides: 2, pad: 'same' },
  { x: [2, 13, 13, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'valid' },
  { x: [2, 8, 8, 2], filter: [3, 2, 2, 3], strides: [1, 2], pad: 'same' },
  { x: [1, 27, 27, 3], filter: [11, 11, 3, 4], strides: 4, pad: 2 },
  { x: [2, 8, 9, 3], filter: [5, 5, 3, 2], strides: 1, pad: 2 },
  { x: [2, 8, 9, 3], filter: [5, 3, 3, 2], strides: 1, pad: 'same' },
  { x: [2, 12, 12, 6], filter: [3, 3, 6, 8], strides: 3, pad: 'same' },
];
