/**
 * Segmentation-aware refiners (Harley, Derpanis, Kokkinos, "Segmentation-Aware
 * Convolutional Networks Using Local Attention Masks", ICCV 2017): the mask
 * and filter ops, the embedding head and loss, the bilateral filter and CRF
 * refiners, and the segmentation-aware convolution layer.
 * @module
 */
export { localMasks, type LocalMaskOptions, type EmbeddingNorm } from './local_masks.js';
export { segAwareFilter, type SegAwareFilterOptions } from './seg_aware_filter.js';
export { embeddingLoss, type EmbeddingLossOptions } from './embedding_loss.js';
export { EmbeddingHead, embeddingHeadSchema, type EmbeddingHeadArgs, type LayerNameArgs } from './embedding_head.js';
export { type GuidanceArgs } from './guidance.js';
export { SegAwareBilateral, segAwareBilateralSchema, segAwareBilateralSpec, type SegAwareBilateralArgs } from './seg_aware_bilateral.js';
export { SegAwareCrf, segAwareCrfSchema, segAwareCrfSpec, type SegAwareCrfArgs } from './seg_aware_crf.js';
export {
  SegAwareConv2D,
  segAwareConv2DSchema,
  type SegAwareConv2DArgs,
  type SegAwareActivation,
  type SegAwareNormalization,
} from './seg_aware_conv.js';
