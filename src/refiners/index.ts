/**
 * Built-in refiners, in the order the registry (and the bench) lists them.
 * Each family adds its spec here and nowhere else.
 * @module
 */
import type { NeckSpec, RefinerSpec } from '../core/registry.js';
import { convCrfSpec, denseCrfSpec } from './crf/index.js';
import { difnetSpec } from './diffusion/index.js';
import { identitySpec } from './identity/identity_refiner.js';
import { sdnNeckSpec } from './sdn/index.js';
import { segAwareBilateralSpec, segAwareCrfSpec } from './segaware/index.js';
import { spnSpec } from './spn/index.js';

export { IdentityRefiner, identitySpec, type IdentityRefinerArgs } from './identity/identity_refiner.js';
export * from './crf/index.js';
export * from './diffusion/index.js';
export * from './segaware/index.js';
export * from './spn/index.js';

/** The refiner specs `createRegistry()` holds by default. */
export const builtinRefinerSpecs: readonly RefinerSpec<never>[] = [
  identitySpec as RefinerSpec<never>,
  difnetSpec as RefinerSpec<never>,
  segAwareBilateralSpec as RefinerSpec<never>,
  segAwareCrfSpec as RefinerSpec<never>,
  spnSpec as RefinerSpec<never>,
  denseCrfSpec as RefinerSpec<never>,
  convCrfSpec as RefinerSpec<never>,
];

export * from './sdn/index.js';

/** The neck specs `createRegistry()` holds by default (pyramid → pyramid modules). */
export const builtinNeckSpecs: readonly NeckSpec<never>[] = [sdnNeckSpec as NeckSpec<never>];
