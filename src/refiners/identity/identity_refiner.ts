/**
 * The `none` refiner: returns the scores unchanged (resized to the output
 * size). It is the baseline every comparison starts from.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs } from '../../core/config.js';
import { componentClassName, registerComponentClass } from '../../core/component_name.js';
import type { RefinerSpec } from '../../core/registry.js';
import { RefinerLayer, splitLayerArgs, type RefinerCallKwargs, type RefinerInputRoles, type RefinerInputs } from '../../core/refiner.js';
import type { Size2D } from '../../core/ops/resize.js';
import { ArgsObject, OutputSize, type Static } from '../../core/schemas.js';

/** The registry id: the `type` in configs, the prefix of argument errors, the tfjs class name `segrefine>none`. */
const IDENTITY_ID = 'none';

/** Schema of {@link IdentityRefinerArgs}. */
export const identityRefinerArgs = ArgsObject({
  /**
   * Output `[height, width]`; null keeps the scores' size.
   */
  outputSize: OutputSize({ default: null }),
});

/**
 * Arguments of {@link IdentityRefiner}.
 * @interface
 */
export type IdentityRefinerArgs = Static<typeof identityRefinerArgs>;

const identitySchema = compileArgs(IDENTITY_ID, identityRefinerArgs);

/** Baseline refiner (`id: 'none'`): logits in, the same logits out (resized if asked). */
export class IdentityRefiner extends RefinerLayer {
  /** tfjs serialization name. */
  static readonly className = componentClassName(IDENTITY_ID);
  /** Registry name. */
  readonly refinerId = IDENTITY_ID;
  private readonly args: IdentityRefinerArgs;

  /** @param args - see {@link IdentityRefinerArgs} (plus tfjs layer args such as `name`) */
  constructor(args: IdentityRefinerArgs = {}) {
    const { layerArgs, own } = splitLayerArgs(args);
    super(layerArgs);
    this.args = parseArgs(identitySchema, own);
  }

  /** Takes only the scores. */
  inputRoles(): RefinerInputRoles {
    return { features: 0, image: false };
  }

  protected configuredOutputSize(): Size2D | undefined {
    return this.args.outputSize ?? undefined;
  }

  protected forward(inputs: RefinerInputs, kwargs: RefinerCallKwargs): tf.Tensor4D {
    return this.toOutputSize(tf.clone(inputs.scores), kwargs.outputSize);
  }

  /** The constructor's args, for `model.save()`. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), outputSize: this.args.outputSize ?? null };
  }
}
registerComponentClass(IdentityRefiner, ['SegrefineIdentityRefiner']);

/** Registry spec of {@link IdentityRefiner}. */
export const identitySpec: RefinerSpec<IdentityRefinerArgs> = {
  id: IDENTITY_ID,
  summary: 'Baseline: the backbone scores unchanged.',
  differentiable: true,
  schema: identitySchema,
  create: (args) => new IdentityRefiner(args),
};
