/**
 * Schema fragments shared by the backbone args.
 * @module
 */
import { NAME_PATTERN } from './layer_factory.js';

/** `classes`: number of classes K of the scores. */
export const classesSchema = { type: 'integer', minimum: 1, default: 21, nullable: true } as const;

/** `depth`: ResNet depth. */
export const depthSchema = { type: 'integer', enum: [18, 34, 50, 101], default: 18, nullable: true } as const;

/** `width`: channel multiplier of a ResNet (1 = published widths). */
export const widthSchema = { type: 'number', exclusiveMinimum: 0, maximum: 4, default: 1, nullable: true } as const;

/** `outputStride`: stride of the last ResNet stage (8 or 16 by dilation, 32 plain). */
export const outputStrideSchema = { type: 'integer', enum: [8, 16, 32], default: 8, nullable: true } as const;

/** `seed`: base seed of every initialiser. */
export const seedSchema = { type: 'integer', minimum: 0, default: 0, nullable: true } as const;

/**
 * `name`: prefix of every layer name (letters, digits, `-`, `.`, `_`).
 * @param defaultName - the default prefix
 */
export function nameSchema(defaultName: string): { type: 'string'; pattern: string; default: string; nullable: true } {
  return { type: 'string', pattern: NAME_PATTERN, default: defaultName, nullable: true };
}

/**
 * `weights`: a path to a torchvision state_dict in safetensors (a string in
 * JSON), or its bytes (Uint8Array / ArrayBuffer) from code; null for none.
 */
export const weightsSchema = { type: ['string', 'object', 'null'], minLength: 1 } as const;

/** `padding`: `same` (tfjs) or `torch` (PyTorch's symmetric padding). */
export const paddingSchema = { type: 'string', enum: ['same', 'torch'], nullable: true } as const;

/** `normalize`: ImageNet mean/std normalisation of the input inside the backbone. */
export const normalizeSchema = { type: 'boolean', nullable: true } as const;
