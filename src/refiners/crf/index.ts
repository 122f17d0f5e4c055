/**
 * The CRF family (DESIGN §5 "Dense CRF"): the fully connected CRF on the
 * permutohedral lattice ({@link denseCrf}, {@link DenseCrf}) and the
 * differentiable convolutional CRF ({@link ConvCrf}).
 * @module
 */
export { denseCrf, type DenseCrfParams, type RgbImage, type LabelProbabilities } from './dense_crf.js';
export { crfMemoryBytes, releaseCrfMemory } from './kernel_memory.js';
export { DenseCrf, denseCrfSpec, type DenseCrfArgs } from './dense_crf_refiner.js';
export { ConvCrf, convCrfSpec, convCrfMemoryBytes, CONV_CRF_MAX_BYTES, type ConvCrfArgs } from './conv_crf.js';
export type { ConvCrfImplementation } from './implementation.js';
export type { CrfNormalization, GaussianKernelParams, BilateralKernelParams } from './params.js';
