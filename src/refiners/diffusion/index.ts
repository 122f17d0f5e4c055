/**
 * DifNet's random-walk diffusion: the op, its closed form and the head.
 * @module
 */
import type { RefinerSpec } from '../../core/registry.js';
import { DiffusionHead, type DiffusionHeadArgs } from './diffusion_head.js';
import { diffusionHeadSchema } from './diffusion_head.js';

export { DiffusionHead, type DiffusionHeadArgs, type DiffusionTrace } from './diffusion_head.js';
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

/** Registry spec of {@link DiffusionHead}. */
export const difnetSpec: RefinerSpec<DiffusionHeadArgs> = {
  id: 'difnet',
  summary: "DifNet's cascaded random-walk diffusion (one feature level per walk).",
  differentiable: true,
  schema: diffusionHeadSchema,
  create: (args) => new DiffusionHead(args),
};
