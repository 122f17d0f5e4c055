/**
 * Wires the built-in refiner and backbone specs into the registry. Imported
 * once by the package entry, so `core/` never names a particular refiner.
 * @module
 * @internal
 */
import { builtinBackboneSpecs } from './backbones/index.js';
import { setBuiltinSpecs } from './core/registry.js';
import { builtinNeckSpecs, builtinRefinerSpecs } from './refiners/index.js';

setBuiltinSpecs(builtinRefinerSpecs, builtinBackboneSpecs, builtinNeckSpecs);
