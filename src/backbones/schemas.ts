/**
 * Schema fragments shared by the backbone args.
 * @module
 */
import type { TObject, TOptional, TString } from '@sinclair/typebox';
import { IntegerEnum, Nullable, StringEnum, Type, type Static } from '../core/schemas.js';
import { NAME_PATTERN } from './layer_factory.js';
import type { WeightsSource } from './torchvision_weights.js';

/**
 * `classes`: number of classes K of the scores, background included — at
 * least 2, as every refiner and the softmax cross-entropy need (one class
 * would make every prediction trivially right).
 */
export const classesSchema = Type.Optional(Type.Integer({ minimum: 2, default: 21 }));

/** `depth`: ResNet depth. */
export const depthSchema = Type.Optional(IntegerEnum([18, 34, 50, 101], { default: 18 }));

/** `width`: channel multiplier of a ResNet (1 = published widths). */
export const widthSchema = Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 4, default: 1 }));

/** `outputStride`: stride of the last ResNet stage (8 or 16 by dilation, 32 plain). */
export const outputStrideSchema = Type.Optional(IntegerEnum([8, 16, 32], { default: 8 }));

/** `seed`: base seed of every initialiser. */
export const seedSchema = Type.Optional(Type.Integer({ minimum: 0, default: 0 }));

/**
 * `name`: prefix of every layer name (letters, digits, `-`, `.`, `_`).
 * @param options - the default prefix, written at the call site
 */
export function layerNameSchema(options: { default: string }): TOptional<TString> {
  return Type.Optional(Type.String({ pattern: NAME_PATTERN, ...options }));
}

/**
 * The pretrained-weights arguments every ResNet-based backbone and model
 * takes (`resnet`, `sim-deeplab`, `createDifNet`), declared once; spread them
 * into the component's `ArgsObject`.
 */
export const pretrainedArgs = {
  /**
   * Pretrained weights of the ResNet body (or bodies): a torchvision ResNet
   * `state_dict` saved as safetensors (parameter names `conv1.weight`,
   * `layer1.0.bn1.running_mean`, …; `fc.*` is ignored, and every layer that
   * is not the ResNet's — a classifier, ASPP, a head — stays freshly
   * initialised). A path (a string, as JSON can hold; needs `segrefine/node`
   * imported, which reads it relative to the working directory) or the
   * file's bytes (Uint8Array / ArrayBuffer). The file must fit `depth` and
   * `width`. Loading switches `padding` to `'torch'` and `normalize` to true
   * unless they are given. Null: random initialisation.
   */
  weights: Type.Optional(Type.Unsafe<WeightsSource | null>({ type: ['string', 'object', 'null'], minLength: 1 })),
  /**
   * Padding of the strided convolutions and the max pool: `'same'` (tfjs's)
   * or `'torch'` (PyTorch's symmetric padding, needed for torchvision parity).
   * @defaultValue 'torch' with weights, else 'same'
   */
  padding: Type.Optional(Nullable(StringEnum(['same', 'torch']))),
  /**
   * Normalise the ResNet's [0, 1] RGB input with ImageNet's mean and std, as
   * torchvision's weights expect (the caller keeps passing [0, 1] RGB).
   * @defaultValue true with weights, else false
   */
  normalize: Type.Optional(Nullable(Type.Boolean())),
};

/**
 * The pretrained-weights arguments ({@link pretrainedArgs}) as given.
 * @interface
 */
export type PretrainedArgs = Static<TObject<typeof pretrainedArgs>>;
