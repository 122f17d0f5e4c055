/**
 * Schema fragments shared by the backbone args.
 * @module
 */
import type { TOptional, TString } from '@sinclair/typebox';
import { IntegerEnum, Nullable, StringEnum, Type } from '../core/schemas.js';
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
 * `weights`: a path to a torchvision state_dict in safetensors (a string in
 * JSON), or its bytes (Uint8Array / ArrayBuffer) from code; null for none.
 * Declared as a raw schema because bytes are no JSON type.
 */
export const weightsSchema = Type.Optional(Type.Unsafe<WeightsSource | null>({ type: ['string', 'object', 'null'], minLength: 1 }));

/** `padding`: `same` (tfjs) or `torch` (PyTorch's symmetric padding). */
export const paddingSchema = Type.Optional(Nullable(StringEnum(['same', 'torch'])));

/** `normalize`: ImageNet mean/std normalisation of the input inside the backbone. */
export const normalizeSchema = Type.Optional(Nullable(Type.Boolean()));
