/**
 * segrefine: refiners for semantic segmentation on TensorFlow.js — the
 * portable core (Node and browsers alike: no Node built-in or Node-only
 * package in its import graph). Files, sharp decoding, checkpoints on disk and
 * the walk's helper threads are in `segrefine/node`; the benchmark is
 * `segrefine/bench`. Importing it registers segrefine's own layer classes
 * with tfjs and changes nothing else; {@link initBackend} starts a backend
 * and installs the kernel fixes.
 *
 * ```ts illustrative
 * import * as tf from '@tensorflow/tfjs';
 * import { initBackend, createRefiner } from 'segrefine';
 * await initBackend();
 * const refiner = createRefiner({ type: 'none' });
 * ```
 * @module segrefine
 */
import './specs.js';

export { initBackend, backendInfo, describeBackend, suppressCpuBanner, type BackendInfo, type BackendOptions, type BackendPreference, type SkippedBackend } from './core/backend.js';
export { installKernelFixes } from './core/kernels/index.js';
export { SegrefineError, ShapeError, ConfigError, DataError } from './core/errors.js';
export { compileArgs, parseArgs, upgradeRenamedArgs, type ArgsSchema, type CompileArgsOptions, type JSONSchemaType } from './core/config.js';
export { BATCH_NORM_EPSILON } from './core/batch_norm.js';
export { CompositeLayer } from './core/composite_layer.js';
export { ArgsObject, IntegerEnum, Nullable, OutputSize, SizeTuple, StringEnum, Type, type Static } from './core/schemas.js';
export {
  RefinerLayer,
  splitLayerArgs,
  assertFinite,
  checkRefineOptions,
  type Refiner,
  type RefinerInputs,
  type RefineOptions,
  type RefinerInputRoles,
  type RefinerCallKwargs,
  type NamedInputs,
  type SplitLayerArgs,
  type InspectionMap,
  type RefinerInspection,
} from './core/refiner.js';
export type { Backbone, BackboneOutputs, BackboneCallKwargs } from './core/backbone.js';
export { NeckLayer, type Neck, type NeckCallKwargs, type NeckOptions, type LayerInput } from './core/neck.js';
export {
  Registry,
  createRegistry,
  defaultRegistry,
  createRefiner,
  createNeck,
  createBackbone,
  type RefinerSpec,
  type BackboneSpec,
  type NeckSpec,
  type TypedConfig,
  type RegistryOptions,
} from './core/registry.js';
export { resizeBilinear, type Size2D } from './core/ops/resize.js';
export { parseSafetensors, type SafetensorsFile, type SafetensorsTensor } from './core/safetensors.js';
export * from './refiners/index.js';
export * from './backbones/index.js';
export * from './models/index.js';
export * from './train/index.js';
export * from './data/index.js';
export * from './eval/index.js';
