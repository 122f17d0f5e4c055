/**
 * Schema fragments shared by refiner args.
 * @module
 */

/** `outputSize: [height, width]` (positive integers) or null for "the scores' size". */
export const outputSizeSchema = {
  type: 'array',
  items: { type: 'integer', minimum: 1 },
  minItems: 2,
  maxItems: 2,
  nullable: true,
} as const;
