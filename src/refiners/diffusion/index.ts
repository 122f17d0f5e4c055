/**
 * DifNet's random-walk diffusion: the op, its closed form and the head.
 * @module
 */
export { DiffusionHead, difnetSpec, type DiffusionHeadArgs, type DiffusionTrace } from './diffusion_head.js';
export { type DiffusionInspection, type NodeRef } from './inspection.js';
export {
  randomWalk,
  diffusionClosedForm,
  transitionMatrix,
  MATERIALIZED_MAX_BYTES,
  AUTO_BLOCKED_MIN_ELEMENTS,
  type RandomWalkInputs,
  type ClosedFormInputs,
  type ScalarLike,
  type WalkPath,
} from './random_walk.js';
