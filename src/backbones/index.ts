/**
 * Built-in backbones, in the order the registry lists them.
 * @module
 */
import type { BackboneSpec } from '../core/registry.js';

/** The backbone specs `createContainer()` registers by default. */
export const builtinBackboneSpecs: readonly BackboneSpec<never>[] = [];
