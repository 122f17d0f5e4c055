/**
 * SDN, the semantic diffusion network (Tan et al., NeurIPS 2022): the
 * semantic difference convolution and the neck built from it.
 * @module
 */
export { semanticDifferenceConv, type SemanticDifferenceOptions, type SimilarityKind } from './semantic_difference.js';
export { SemanticDifferenceConv2D, type SemanticDifferenceConv2DArgs } from './semantic_difference_conv2d.js';
export { SdnNeck, sdnNeckSpec, type SdnNeckArgs } from './sdn_neck.js';
