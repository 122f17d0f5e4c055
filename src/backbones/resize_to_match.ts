/**
 * A weightless layer that resizes its first input bilinearly
 * (`alignCorners: false`) to the spatial size of its second input. Decoders
 * use it to meet skip connections of any (odd) size, and the segmenters to
 * bring logits to the image size when that size is only known at run time.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../core/errors.js';
import { resizeBilinear } from '../core/ops/resize.js';

/** `[x, reference]` → x resized to reference's height and width. */
export class ResizeToMatch extends tf.layers.Layer {
  /** tfjs serialization name. */
  static readonly className = 'SegrefineResizeToMatch';

  /** @param args - tfjs layer args (`name`) */
  constructor(args: tf.serialization.ConfigDict = {}) {
    super(args);
  }

  /** Output shape: x's batch and channels at the reference's size. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shapes = inputShape as tf.Shape[];
    if (!Array.isArray(shapes[0]) || shapes.length !== 2) throw new ShapeError(`${this.name} inputs`, 'must be [x, reference]', inputShape);
    const [x, reference] = shapes as [tf.Shape, tf.Shape];
    return [x[0] ?? null, reference[1] ?? null, reference[2] ?? null, x[3] ?? null];
  }

  /** Resizes (a copy when the sizes already match, so outputs never alias inputs). */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length !== 2) throw new ShapeError(`${this.name} inputs`, 'must be [x, reference]', inputs);
      const [x, reference] = inputs as [tf.Tensor4D, tf.Tensor4D];
      const out = resizeBilinear(x, [reference.shape[1], reference.shape[2]]);
      return out === x ? tf.clone(x) : out;
    });
  }
}
tf.serialization.registerClass(ResizeToMatch);
