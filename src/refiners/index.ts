/**
 * Built-in refiners, in the order the registry (and the bench) lists them.
 * Each family adds its spec here and nowhere else.
 * @module
 */
import type { RefinerSpec } from '../core/registry.js';
import { difnetSpec } from './diffusion/index.js';
import { identitySpec } from './identity/identity_refiner.js';

export { IdentityRefiner, identitySpec, type IdentityRefinerArgs } from './identity/identity_refiner.js';
export * from './diffusion/index.js';

/** The refiner specs `createContainer()` registers by default. */
export const builtinRefinerSpecs: readonly RefinerSpec<never>[] = [
  identitySpec as RefinerSpec<never>,
  difnetSpec as RefinerSpec<never>,
];
