/**
 * The gradient of `FusedBatchNorm` with broadcasting instead of `tf.tile`.
 * tfjs's own gradient tiles 1/√(σ² + ε) to the full activation shape before
 * multiplying; on wasm `Tile` is a slow generic kernel (a sixth of a DifNet
 * training step at 64², batch 8), while the multiply broadcasts the
 * per-channel vector for free. Same formulas, same results.
 * @module
 */
import * as tf from '@tensorflow/tfjs';

const batchNormGradient: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const dyTensor = dy as tf.Tensor;
    const scaleValue = scale ?? tf.scalar(1);
    const reductionAxes = tf.broadcast_util.getReductionAxes(mean.shape, x.shape);
    const perChannel = mean.rank === 1;
    const xMinusMean = tf.sub(x, mean);
    const dyTimesScale = tf.mul(dyTensor, scaleValue);
    const oneOverSqrtVariance = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    const minusHalfRCube = tf.mul(tf.mul(tf.mul(oneOverSqrtVariance, oneOverSqrtVariance), oneOverSqrtVariance), tf.scalar(-0.5));
    const reduce = (t: tf.Tensor): tf.Tensor => tf.reshape(perChannel ? tf.sum(t, reductionAxes) : t, mean.shape);
    return {
      x: () => tf.reshape(tf.mul(tf.mul(dyTensor, oneOverSqrtVariance), scaleValue), x.shape),
      mean: () => reduce(tf.mul(tf.mul(oneOverSqrtVariance, tf.scalar(-1)), dyTimesScale)),
      variance: () => reduce(tf.mul(tf.mul(minusHalfRCube, xMinusMean), dyTimesScale)),
      scale: () => reduce(tf.mul(dyTensor, tf.mul(xMinusMean, oneOverSqrtVariance))),
      offset: () => reduce(dyTensor),
    };
  },
};

/** Registers the broadcasting `FusedBatchNorm` gradient (for every backend). */
export function registerBatchNormGradient(): void {
  tf.registerGradient(batchNormGradient);
}
