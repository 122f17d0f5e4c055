/**
 * One pyramid level of the SDN neck: its guidance branch, semantic
 * difference convolution, batch norm and fusion, as plain tensor code over
 * weights the owning {@link SdnNeck} creates (so every weight is the neck's
 * own, named `level<i>/<part>/<weight>`, and save/load round-trips without
 * nested layers).
 *
 * `F_sdn = conv1×1(concat[U, ReLU(BN(SDC(U, V)))])`, back to U's channels.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_EPSILON } from '../../core/batch_norm.js';
import { resizeBilinear } from '../../core/ops/resize.js';
import { matMulFastGrad } from './fast_matmul.js';
import { semanticDifferenceConv, type SimilarityKind } from './semantic_difference.js';

/** Where a level's guidance V comes from. */
export type GuidanceSource =
  /** Single-scale: a stride-2 3×3 conv of the level itself, upsampled back. */
  | 'downsampled'
  /** Multi-scale: the next coarser level, upsampled (1×1-projected if its channels differ). */
  | 'coarser'
  /** Multi-scale, deepest level: a 3×3 conv of the level itself. */
  | 'self';

/** Everything that fixes one level's weights. */
export interface SdnLevelPlan {
  /** Pyramid index of the level. */
  level: number;
  /** Channels C of the level (and of its output). */
  channels: number;
  /** Channels of the SDC output (before fusion). */
  diffusionChannels: number;
  /** Guidance source. */
  guidance: GuidanceSource;
  /** Channels of the coarser level, for `'coarser'` guidance. */
  coarserChannels: number;
  /** SDC window size. */
  kernelSize: number;
  /** SDC dilation. */
  dilation: number;
  /** SDC similarity form. */
  similarity: SimilarityKind;
  /** Initial λ. */
  initialLambda: number;
  /** `'identity'`: the fusion starts as `F_sdn = U`; `'random'`: Glorot. */
  fusionInitializer: 'identity' | 'random';
  /** Batch-norm momentum of the moving statistics. */
  momentum: number;
  /** Base seed of this level's initializers. */
  seed: number;
}

/** A tfjs weight initializer. */
type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** Creates a weight on the owning layer: `(name, shape, initializer, trainable)`. */
export type WeightFactory = (name: string, shape: number[], initializer: Initializer, trainable: boolean) => tf.LayerVariable;

/** A 1×1 convolution as one matMul over `[B·H·W, Cin]` (with a wasm-friendly gradient). */
function pointwise(x: tf.Tensor4D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const y = tf.add(matMulFastGrad(tf.reshape(x, [b * h * w, c]), kernel), bias);
  return tf.reshape(y, [b, h, w, kernel.shape[1]]) as tf.Tensor4D;
}

/** One level's weights and forward pass. */
export class SdnLevel {
  private readonly guideKernel: tf.LayerVariable | undefined;
  private readonly guideBias: tf.LayerVariable | undefined;
  private readonly sdcKernel: tf.LayerVariable;
  private readonly sdcLambda: tf.LayerVariable;
  private readonly gamma: tf.LayerVariable;
  private readonly beta: tf.LayerVariable;
  private readonly movingMean: tf.LayerVariable;
  private readonly movingVariance: tf.LayerVariable;
  private readonly fuseKernel: tf.LayerVariable;
  private readonly fuseBias: tf.LayerVariable;

  /**
   * @param plan - the level's shapes and options
   * @param addWeight - creates a weight on the owning layer
   */
  constructor(
    readonly plan: SdnLevelPlan,
    addWeight: WeightFactory,
  ) {
    const { level, channels: c, diffusionChannels: d, seed } = plan;
    const name = (part: string): string => `level${level}/${part}`;
    const glorot = (offset: number): Initializer => tf.initializers.glorotUniform({ seed: seed + offset });
    const zeros = tf.initializers.zeros();
    const ones = tf.initializers.ones();
    if (plan.guidance !== 'coarser' || plan.coarserChannels !== c) {
      const shape = plan.guidance === 'coarser' ? [1, 1, plan.coarserChannels, c] : [3, 3, c, c];
      this.guideKernel = addWeight(name('guide/kernel'), shape, glorot(1), true);
      this.guideBias = addWeight(name('guide/bias'), [c], zeros, true);
    }
    const k = plan.kernelSize;
    this.sdcKernel = addWeight(name('sdc/kernel'), [k, k, c, d], glorot(2), true);
    const lambdaSize = plan.similarity === 'diffusivity' ? c : 1;
    this.sdcLambda = addWeight(name('sdc/lambda'), [lambdaSize], tf.initializers.constant({ value: plan.initialLambda }), true);
    this.gamma = addWeight(name('bn/gamma'), [d], ones, true);
    this.beta = addWeight(name('bn/beta'), [d], zeros, true);
    this.movingMean = addWeight(name('bn/moving_mean'), [d], zeros, false);
    this.movingVariance = addWeight(name('bn/moving_variance'), [d], ones, false);
    this.fuseKernel = addWeight(name('fuse/kernel'), [c + d, c], plan.fusionInitializer === 'identity' ? zeros : glorot(3), true);
    this.fuseBias = addWeight(name('fuse/bias'), [c], zeros, true);
    if (plan.fusionInitializer === 'identity') {
      // [I; 0]: the neck starts as the identity, so inserting it leaves a
      // (pretrained) backbone's features untouched until training moves it.
      // write() shares the tensor's data with the variable: dispose our handle, or it leaks.
      const identity = tf.tidy(() => tf.concat([tf.eye(c), tf.zeros([d, c])], 0));
      this.fuseKernel.write(identity);
      identity.dispose();
    }
  }

  /**
   * The guidance V for this level (U's size and channels).
   * @param u - the level's features
   * @param coarser - the next coarser input level, for `'coarser'` guidance
   */
  guidance(u: tf.Tensor4D, coarser: tf.Tensor4D | undefined): tf.Tensor4D {
    const size: [number, number] = [u.shape[1], u.shape[2]];
    const kernel = this.guideKernel?.read() as tf.Tensor4D | undefined;
    const bias = this.guideBias?.read() as tf.Tensor1D | undefined;
    switch (this.plan.guidance) {
      case 'downsampled':
        return resizeBilinear(tf.add(tf.conv2d(u, kernel!, 2, 'same'), bias!), size);
      case 'self':
        return tf.add(tf.conv2d(u, kernel!, 1, 'same'), bias!);
      case 'coarser': {
        // Project at the coarse resolution, then upsample: the same result
        // (bilinear weights sum to 1) for a fraction of the work.
        const projected = kernel === undefined ? coarser! : pointwise(coarser!, tf.reshape(kernel, [kernel.shape[2], kernel.shape[3]]) as tf.Tensor2D, bias!);
        return resizeBilinear(projected, size);
      }
    }
  }

  /**
   * `conv1×1(concat[U, ReLU(BN(SDC(U, V)))])`.
   * @param u - the level's features `[B, H, W, C]`
   * @param v - its guidance `[B, H, W, C]`
   * @param training - batch statistics (and moving-average updates) when true
   */
  forward(u: tf.Tensor4D, v: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const { kernelSize, dilation, similarity } = this.plan;
    const y = semanticDifferenceConv(u, v, this.sdcKernel.read() as tf.Tensor4D, this.sdcLambda.read() as tf.Tensor1D, { kernelSize, dilation, similarity });
    const z = tf.relu(this.batchNorm(y, training));
    return pointwise(tf.concat([u, z], 3), this.fuseKernel.read() as tf.Tensor2D, this.fuseBias.read() as tf.Tensor1D);
  }

  /** Batch norm over B, H, W, updating the moving statistics in training (as tfjs's layer does). */
  private batchNorm(y: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const gamma = this.gamma.read() as tf.Tensor1D;
    const beta = this.beta.read() as tf.Tensor1D;
    if (!training) {
      return tf.batchNorm(y, this.movingMean.read() as tf.Tensor1D, this.movingVariance.read() as tf.Tensor1D, beta, gamma, BATCH_NORM_EPSILON);
    }
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    const decay = 1 - this.plan.momentum;
    for (const [variable, batchValue] of [
      [this.movingMean, mean],
      [this.movingVariance, variance],
    ] as const) {
      const old = variable.read();
      variable.write(tf.tidy(() => tf.sub(old, tf.mul(tf.sub(old, batchValue), decay))));
    }
    return tf.batchNorm(y, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, BATCH_NORM_EPSILON);
  }
}
