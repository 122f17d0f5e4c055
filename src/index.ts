/**
 * segrefine: refiners for semantic segmentation on TensorFlow.js.
 *
 * ```ts illustrative
 * import * as tf from '@tensorflow/tfjs';
 * import { initBackend, createRefiner } from 'segrefine';
 * await initBackend();
 * const refiner = createRefiner({ type: 'none' });
 * ```
 * @module segrefine
 */
import 'reflect-metadata';
import { installKernelFixes } from './core/kernels/index.js';
import './specs.js';

installKernelFixes();

export { initBackend, backendInfo, describeBackend, suppressCpuBanner, type BackendInfo, type BackendPreference, type SkippedBackend } from './core/backend.js';
export { installKernelFixes, wasmKernelNames } from './core/kernels/index.js';
export { SegrefineError, ShapeError, ConfigError, DataError } from './core/errors.js';
export { ajv, compileArgs, parseArgs, type ArgsSchema, type JSONSchemaType } from './core/config.js';
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
export { NeckLayer, shapeList, type Neck, type NeckCallKwargs, type NeckOptions, type LayerInput } from './core/neck.js';
export {
  createContainer,
  createRefiner,
  createNeck,
  registryOf,
  Registry,
  REFINER_SPECS,
  BACKBONE_SPECS,
  NECK_SPECS,
  REGISTRY,
  type RefinerSpec,
  type BackboneSpec,
  type NeckSpec,
  type TypedConfig,
  type ContainerOptions,
} from './core/registry.js';
export { resizeBilinear, type Size2D } from './core/ops/resize.js';
export * from './refiners/index.js';
export * from './backbones/index.js';
export * from './models/index.js';
export * from './train/index.js';
export * from './data/index.js';
export * from './eval/index.js';
export * from './bench/index.js';
