/**
 * DeepLab-style augmentation on typed arrays: random scale, pad, random crop,
 * left–right flip, done in one pass per output pixel (no intermediate images).
 * Images are resampled bilinearly (half-pixel centres, as `alignCorners:
 * false`), labels by nearest neighbour, so no new label values appear.
 * @module
 */
import { IGNORE_LABEL } from './palette.js';
import type { SeededRandom } from './random.js';
import type { AugmentOptions, ImageRegion, Sample } from './types.js';

/** One drawn augmentation: what {@link applyAugmentPlan} does to a sample. */
export interface AugmentPlan {
  /** Scale factor applied first (1 = none). */
  scale: number;
  /** Flip the output left–right. */
  flip: boolean;
  /** Top of the crop window in the scaled (and padded) image. */
  offsetY: number;
  /** Left of the crop window in the scaled (and padded) image. */
  offsetX: number;
}

/** The plan that only pads (or passes through): no scale, no flip, crop at the origin. */
export const IDENTITY_PLAN: Readonly<AugmentPlan> = Object.freeze({ scale: 1, flip: false, offsetY: 0, offsetX: 0 });

/** Scaled size of a `height × width` image (at least 1 pixel per side). */
function scaledSize(height: number, width: number, scale: number): [number, number] {
  return [Math.max(1, Math.round(height * scale)), Math.max(1, Math.round(width * scale))];
}

/**
 * Draws a random plan for a `height × width` sample cropped to `outHeight ×
 * outWidth`: scale uniform in `scaleRange`, crop offset uniform over the
 * scaled image padded (bottom/right) to at least the crop size, flip with
 * probability 1/2.
 * @param rng - the random stream (advanced by exactly four draws)
 * @param height - sample height
 * @param width - sample width
 * @param outHeight - crop height
 * @param outWidth - crop width
 * @param options - scale range and flip switch
 */
export function drawAugmentPlan(
  rng: SeededRandom,
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
  options: AugmentOptions,
): AugmentPlan {
  const [minScale, maxScale] = options.scaleRange ?? [0.5, 2.0];
  const scale = rng.uniform(minScale, maxScale);
  const [scaledHeight, scaledWidth] = scaledSize(height, width, scale);
  const offsetY = rng.int(Math.max(scaledHeight, outHeight) - outHeight + 1);
  const offsetX = rng.int(Math.max(scaledWidth, outWidth) - outWidth + 1);
  const flipDraw = rng.chance(0.5);
  return { scale, flip: (options.flip ?? true) && flipDraw, offsetY, offsetX };
}

/**
 * Applies a plan: returns a new `outHeight × outWidth` sample. Pixels that
 * fall outside the scaled image are padding: `imagePadValue` in the image,
 * 255 in the label.
 * @param sample - the source sample (not modified)
 * @param plan - from {@link drawAugmentPlan}, or {@link IDENTITY_PLAN} to pad only
 * @param outHeight - output height
 * @param outWidth - output width
 * @param imagePadValue - RGB bytes used for image padding
 */
export function applyAugmentPlan(
  sample: Sample,
  plan: Readonly<AugmentPlan>,
  outHeight: number,
  outWidth: number,
  imagePadValue: readonly [number, number, number],
): Sample {
  const { height, width } = sample;
  const [scaledHeight, scaledWidth] = scaledSize(height, width, plan.scale);
  const image = new Uint8Array(outHeight * outWidth * 3);
  const label = new Uint8Array(outHeight * outWidth).fill(IGNORE_LABEL);
  for (let i = 0; i < outHeight * outWidth; i++) {
    image[3 * i] = imagePadValue[0];
    image[3 * i + 1] = imagePadValue[1];
    image[3 * i + 2] = imagePadValue[2];
  }
  // Source coordinate of a scaled-image pixel centre (half-pixel convention).
  const ratioY = height / scaledHeight;
  const ratioX = width / scaledWidth;
  const identity = scaledHeight === height && scaledWidth === width;
  const src = sample.image;
  for (let y = 0; y < outHeight; y++) {
    const sy = y + plan.offsetY;
    if (sy >= scaledHeight) break;
    const fy = Math.min(Math.max((sy + 0.5) * ratioY - 0.5, 0), height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const wy = fy - y0;
    const labelRow = Math.min(height - 1, Math.floor((sy + 0.5) * ratioY));
    for (let x = 0; x < outWidth; x++) {
      const sx = (plan.flip ? outWidth - 1 - x : x) + plan.offsetX;
      if (sx >= scaledWidth) continue;
      const out = y * outWidth + x;
      if (identity) {
        const at = sy * width + sx;
        label[out] = sample.label[at] as number;
        image[3 * out] = src[3 * at] as number;
        image[3 * out + 1] = src[3 * at + 1] as number;
        image[3 * out + 2] = src[3 * at + 2] as number;
        continue;
      }
      label[out] = sample.label[labelRow * width + Math.min(width - 1, Math.floor((sx + 0.5) * ratioX))] as number;
      const fx = Math.min(Math.max((sx + 0.5) * ratioX - 0.5, 0), width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, width - 1);
      const wx = fx - x0;
      const a = 3 * (y0 * width + x0);
      const b = 3 * (y0 * width + x1);
      const c = 3 * (y1 * width + x0);
      const d = 3 * (y1 * width + x1);
      for (let ch = 0; ch < 3; ch++) {
        const top = (src[a + ch] as number) * (1 - wx) + (src[b + ch] as number) * wx;
        const bottom = (src[c + ch] as number) * (1 - wx) + (src[d + ch] as number) * wx;
        image[3 * out + ch] = Math.round(top * (1 - wy) + bottom * wy);
      }
    }
  }
  return { id: sample.id, image, label, height: outHeight, width: outWidth };
}

/**
 * The rectangle of the output that holds sample pixels after a plan (the rest
 * is padding). Empty (zero height or width) if the crop misses the image.
 * @param height - sample height
 * @param width - sample width
 * @param plan - the plan applied
 * @param outHeight - output height
 * @param outWidth - output width
 */
export function planRegion(height: number, width: number, plan: Readonly<AugmentPlan>, outHeight: number, outWidth: number): ImageRegion {
  const [scaledHeight, scaledWidth] = scaledSize(height, width, plan.scale);
  const rows = Math.max(0, Math.min(outHeight, scaledHeight - plan.offsetY));
  const cols = Math.max(0, Math.min(outWidth, scaledWidth - plan.offsetX));
  // A flip mirrors the output, so the content then sits at the right.
  return { top: 0, left: plan.flip ? outWidth - cols : 0, height: rows, width: cols };
}
