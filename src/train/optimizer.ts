/**
 * Optimisers for segmentation training: SGD with momentum under DeepLab's
 * "poly" learning-rate policy (the DifNet reference's schedule), or Adam; L2
 * weight decay on convolution/dense kernels; state that can be saved and
 * restored for checkpoint resume.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs } from '../core/config.js';
import { ArgsObject, Nullable, StringEnum, Type, type Static } from '../core/schemas.js';
import { ConfigError } from '../core/errors.js';

/** Schema of {@link OptimizerArgs}: the arguments, their rules and defaults, declared once. */
const optimizerArgs = ArgsObject({
  /**
   * `sgd` (with momentum) or `adam`.
   */
  type: Type.Optional(StringEnum(['sgd', 'adam'], { default: 'sgd' })),
  /**
   * Base learning rate; null: 0.01 for SGD, 0.001 for Adam.
   */
  learningRate: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0 }), { default: null })),
  /**
   * SGD momentum (0 = plain SGD).
   */
  momentum: Type.Optional(Type.Number({ minimum: 0, maximum: 1, exclusiveMaximum: 1, default: 0.9 })),
  /**
   * Adam β1.
   */
  beta1: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.9 })),
  /**
   * Adam β2.
   */
  beta2: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.999 })),
  /**
   * Adam ε.
   */
  epsilon: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 1e-8 })),
  /**
   * L2 weight decay added to the gradients of kernels (not biases, not batch
   * norm); DeepLab uses 5e-4.
   */
  weightDecay: Type.Optional(Type.Number({ minimum: 0, default: 0 })),
  /**
   * Learning-rate policy: `poly` = base·(1 − step/totalSteps)^power (DeepLab), or `constant`.
   */
  policy: Type.Optional(StringEnum(['poly', 'constant'], { default: 'poly' })),
  /**
   * Exponent of the poly policy.
   */
  power: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 0.9 })),
});

/**
 * Arguments of {@link SegmentationOptimizer}.
 * @interface
 */
export type OptimizerArgs = Static<typeof optimizerArgs>;

/** Parsed {@link OptimizerArgs}: every field set. */
export interface ResolvedOptimizerArgs extends Required<Omit<OptimizerArgs, 'learningRate'>> {
  /** Base learning rate (the type's default filled in). */
  learningRate: number;
}

/** Schema of {@link OptimizerArgs}. */
export const optimizerSchema = compileArgs('OptimizerArgs', optimizerArgs);

/**
 * Validates optimizer args and fills the defaults (including the type's
 * default learning rate).
 * @param args - see {@link OptimizerArgs}
 */
export function parseOptimizerArgs(args: OptimizerArgs = {}): ResolvedOptimizerArgs {
  const parsed = parseArgs(optimizerSchema, args) as Required<OptimizerArgs>;
  return { ...parsed, learningRate: parsed.learningRate ?? (parsed.type === 'adam' ? 1e-3 : 1e-2) };
}

/**
 * The learning rate at `step` (0-based) under the args' policy.
 * @param args - parsed optimizer args
 * @param step - completed steps so far
 * @param totalSteps - length of the schedule (required by `poly`)
 */
export function learningRateAt(args: ResolvedOptimizerArgs, step: number, totalSteps: number | null): number {
  if (args.policy === 'constant') return args.learningRate;
  if (totalSteps === null || !(totalSteps > 0)) {
    throw new ConfigError('totalSteps', "is required by the 'poly' learning-rate policy (give totalSteps, or epochs with stepsPerEpoch)", totalSteps);
  }
  return args.learningRate * Math.pow(1 - Math.min(step, totalSteps) / totalSteps, args.power);
}

/** A tensor with a name, as tfjs optimisers save their slot variables. */
export interface NamedWeight {
  /** The slot's name (`iter`, `<variable>/momentum`, `<variable>/m`, …). */
  name: string;
  /** Its value. */
  tensor: tf.Tensor;
}

/** The serialisable state of an optimiser: its slot variables, in tfjs's order. */
export interface OptimizerState {
  /** Named tensors from `tf.Optimizer.getWeights()` (iteration count first). */
  weights: NamedWeight[];
}

/** Whether a weight takes L2 decay: kernels only (convolution, dense, depthwise). */
function isDecayed(weight: tf.LayerVariable): boolean {
  return /kernel$/.test(weight.originalName);
}

/**
 * A tfjs optimiser plus the policy, the weight decay and the state handling
 * the training loop needs.
 */
export class SegmentationOptimizer {
  /** The parsed arguments. */
  readonly args: ResolvedOptimizerArgs;
  private readonly optimizer: tf.Optimizer;

  /** @param args - see {@link OptimizerArgs} */
  constructor(args: OptimizerArgs = {}) {
    this.args = parseOptimizerArgs(args);
    const a = this.args;
    this.optimizer = a.type === 'adam'
      ? tf.train.adam(a.learningRate, a.beta1, a.beta2, a.epsilon)
      : a.momentum > 0
        ? tf.train.momentum(a.learningRate, a.momentum)
        : tf.train.sgd(a.learningRate);
  }

  /** Sets the learning rate for the next update. */
  setLearningRate(learningRate: number): void {
    // Not `instanceof`: tfjs makes every optimiser an instance of every optimiser class.
    if (this.args.type === 'sgd') (this.optimizer as tf.SGDOptimizer).setLearningRate(learningRate);
    // Adam reads its public `learningRate` field on every update.
    else (this.optimizer as unknown as { learningRate: number }).learningRate = learningRate;
  }

  /**
   * Applies one update from gradients keyed by variable name, adding
   * `weightDecay · w` to the gradient of every kernel.
   * @param weights - the trainable weights, in a fixed order (slot variables are positional)
   * @param grads - gradients by variable name (weights without a gradient are skipped)
   */
  applyGradients(weights: tf.LayerVariable[], grads: tf.NamedTensorMap): void {
    tf.tidy(() => {
      const list: NamedWeight[] = [];
      for (const weight of weights) {
        const variable = weight.read() as tf.Variable;
        const grad = grads[variable.name];
        if (grad === undefined) continue;
        const decayed = this.args.weightDecay > 0 && isDecayed(weight) ? tf.add(grad, tf.mul(variable, this.args.weightDecay)) : grad;
        list.push({ name: variable.name, tensor: decayed });
      }
      this.optimizer.applyGradients(list);
    });
  }

  /** The optimiser's state (iteration count and slot variables); dispose the tensors when done. */
  async getState(): Promise<OptimizerState> {
    const weights = await this.optimizer.getWeights();
    // Slot variables are live: copy them, so the caller may dispose everything.
    return { weights: weights.map((w) => ({ name: w.name, tensor: w.name === 'iter' ? w.tensor : tf.clone(w.tensor) })) };
  }

  /**
   * Restores a state from {@link SegmentationOptimizer.getState} or a checkpoint.
   * @param state - named tensors, iteration count first (copied; the caller keeps ownership)
   */
  async setState(state: OptimizerState): Promise<void> {
    await this.optimizer.setWeights(state.weights);
  }

  /** Releases the slot variables. */
  dispose(): void {
    this.optimizer.dispose();
    // tfjs's MomentumOptimizer.dispose() forgets the learning-rate scalar its SGD base keeps.
    if (this.args.type === 'sgd' && this.args.momentum > 0) tf.SGDOptimizer.prototype.dispose.call(this.optimizer);
  }
}
