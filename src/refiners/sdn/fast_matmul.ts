/**
 * `a · b` for 2-D tensors with a gradient that avoids the transposed-operand
 * matMul flags: tfjs's own gradient calls `matMul(dy, b, false, true)` and
 * `matMul(a, dy, true, false)`, which run ~10× slower than a plain matMul on
 * wasm (DESIGN §4). Here the small operand is transposed explicitly instead.
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs';

const matMulWithFastGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const a = args[0] as tf.Tensor2D;
  const b = args[1] as tf.Tensor2D;
  const save = args[2] as tf.GradSaveFunc;
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = dy as tf.Tensor2D;
      // d(a) = dy · bᵀ; d(b) = aᵀ · dy = (dyᵀ · a)ᵀ, transposing the narrower of a and dy.
      const da = tf.matMul(dy2, tf.transpose(sb));
      const db = sa.shape[1] <= dy2.shape[1] ? tf.matMul(tf.transpose(sa), dy2) : tf.transpose(tf.matMul(tf.transpose(dy2), sa));
      return [da, db];
    },
  };
});

/**
 * `a · b` (`[m, k] × [k, n]`), differentiable, with a wasm-friendly gradient.
 * @param a - left operand `[m, k]`
 * @param b - right operand `[k, n]`
 */
export function matMulFastGrad(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return matMulWithFastGrad(a, b) as tf.Tensor2D;
}
