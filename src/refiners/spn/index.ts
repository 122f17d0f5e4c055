/**
 * SPN (Liu et al., "Learning Affinity via Spatial Propagation Networks",
 * NIPS 2017): the propagation ops and the {@link SpnRefiner} layer.
 * @module
 */
export { SPN_DIRECTIONS, type SpnDirection, type SpnMode, type SpnNormalize } from './directions.js';
export { spn, spnPropagate, SPN_IMPLEMENTATIONS, type SpnImplementation, type SpnOptions, type SpnPropagateOptions } from './propagate.js';
export { SpnRefiner, spnSpec, spnRefinerSchema, type SpnRefinerArgs, type SpnGuidance } from './spn_refiner.js';
