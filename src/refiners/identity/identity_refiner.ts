/**
 * The `none` refiner: returns the scores unchanged (resized to the output
 * size). It is the baseline every comparison starts from.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs, type JSONSchemaType } from '../../core/config.js';
import type { RefinerSpec } from '../../core/registry.js';
import { RefinerLayer, splitLayerArgs, type RefinerCallKwargs, type RefinerInputRoles, type RefinerInputs } from '../../core/refiner.js';
import type { Size2D } from '../../core/ops/resize.js';
import { outputSizeSchema } from '../../core/schemas.js';

/** Arguments of {@link IdentityRefiner}. */
export interface IdentityRefinerArgs {
  /**
   * Output `[height, width]`; null keeps the scores' size.
   * @defaultValue null
   */
  outputSize?: Size2D | null;
}

const identitySchema = compileArgs<IdentityRefinerArgs>('IdentityRefinerArgs', {
  type: 'object',
  properties: { outputSize: outputSizeSchema as unknown as JSONSchemaType<IdentityRefinerArgs>['properties']['outputSize'] },
  required: [],
  additionalProperties: false,
});

/** Baseline refiner (`id: 'none'`): logits in, the same logits out (resized if asked). */
export class IdentityRefiner extends RefinerLayer {
  /** tfjs serialization name. */
  static readonly className = 'SegrefineIdentityRefiner';
  /** Registry name. */
  readonly refinerId = 'none';
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
tf.serialization.registerClass(IdentityRefiner);

/** Registry spec of {@link IdentityRefiner}. */
export const identitySpec: RefinerSpec<IdentityRefinerArgs> = {
  id: 'none',
  summary: 'Baseline: the backbone scores unchanged.',
  differentiable: true,
  schema: identitySchema,
  create: (args) => new IdentityRefiner(args),
};
