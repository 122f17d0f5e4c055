/**
 * A weightless layer that normalises an RGB image per channel, `(x − mean) /
 * std`: how torchvision's ImageNet weights expect their input, applied inside
 * the backbone so callers keep passing [0, 1] RGB. Serializable (saved models
 * reload it).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';

/** ImageNet channel means (RGB), torchvision's `transforms.Normalize`. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
/** ImageNet channel standard deviations (RGB). */
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

/** Arguments of {@link ImageNormalization}. */
export interface ImageNormalizationArgs {
  /** Layer name. */
  name?: string;
  /** Per-channel mean. @defaultValue {@link IMAGENET_MEAN} */
  mean?: number[];
  /** Per-channel standard deviation (positive). @defaultValue {@link IMAGENET_STD} */
  std?: number[];
}

/** `[B, H, W, C] → (x − mean) / std` per channel. */
export class ImageNormalization extends tf.layers.Layer {
  /** tfjs serialization name. */
  static readonly className = 'SegrefineImageNormalization';
  /** Per-channel mean. */
  readonly mean: number[];
  /** Per-channel standard deviation. */
  readonly std: number[];

  /** @param args - name, mean, std */
  constructor(args: ImageNormalizationArgs = {}) {
    super({ name: args.name });
    this.mean = [...(args.mean ?? IMAGENET_MEAN)];
    this.std = [...(args.std ?? IMAGENET_STD)];
    if (this.mean.length !== this.std.length || this.mean.length === 0) {
      throw new ConfigError('ImageNormalization mean/std', 'must be non-empty and of equal length', { mean: this.mean, std: this.std });
    }
    if (!this.std.every((s) => Number.isFinite(s) && s > 0)) throw new ConfigError('ImageNormalization std', 'must be positive', this.std);
  }

  /** Same shape as the input. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  /** `(x − mean) / std`, broadcast over the last axis. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return tf.div(tf.sub(x, tf.tensor1d(this.mean)), tf.tensor1d(this.std));
    });
  }

  /** Mean and std, so a saved model reloads the layer. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mean: this.mean, std: this.std };
  }
}
tf.serialization.registerClass(ImageNormalization);
