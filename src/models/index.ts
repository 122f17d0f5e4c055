/**
 * Whole models: {@link createSegmenter} (any backbone + neck + refiner) and
 * {@link createDifNet} (the paper's two-branch DifNet).
 * @module
 */
export { createSegmenter, type SegmenterOptions } from './segmenter.js';
export { createDifNet, difNetSchema, type DifNetArgs } from './difnet.js';
export { resolveBackbone, resolveRefinerLayer, resolveNeck } from './resolve.js';
