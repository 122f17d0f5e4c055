/**
 * Turns the `backbone` / `refiner` / `neck` entries of a segmenter's options
 * (instances or `{ type, …args }` configs) into instances, and checks that
 * they can live inside a `tf.model`.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../core/backbone.js';
import { parseArgs } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { Neck } from '../core/neck.js';
import { RefinerLayer, type Refiner } from '../core/refiner.js';
import { defaultRegistry, type Registry, type TypedConfig } from '../core/registry.js';

function isConfig(value: unknown): value is TypedConfig {
  return value !== null && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string';
}

function splitConfig(config: TypedConfig): { type: string; args: Record<string, unknown> } {
  const { type, ...args } = config;
  return { type, args };
}

/**
 * Gives a layer built from a config a fixed name before its weights exist:
 * tfjs's automatic names depend on how many layers the process created
 * before, and checkpoint resume loads weights by name.
 */
function nameUnbuiltLayer(component: unknown, layerName: string): void {
  if (component instanceof tf.layers.Layer && !component.built) component.name = layerName;
}

/**
 * A backbone instance, or one built from its registry config.
 * @param value - an instance or `{ type: 'resnet', … }`
 * @param registry - from `createRegistry` (default: the built-ins)
 */
export function resolveBackbone(value: Backbone | TypedConfig, registry: Registry = defaultRegistry()): Backbone {
  if (isConfig(value)) return registry.createBackbone(value);
  if (value === null || typeof value !== 'object' || typeof (value as Backbone).apply !== 'function' || !Array.isArray((value as Backbone).outChannels)) {
    throw new ConfigError('backbone', 'must be a Backbone or a { type, …args } config', value);
  }
  return value;
}

/**
 * A refiner layer, or one built from its registry config and named
 * `layerName` (so a rebuilt model has the same weight names). A refiner that
 * is not a `RefinerLayer` (e.g. the non-differentiable dense CRF) cannot sit
 * inside a `tf.model`: a {@link ConfigError} says how to use it instead.
 * @param value - an instance or `{ type: 'difnet', … }`
 * @param layerName - tfjs layer name given to a refiner built from a config
 * @param registry - from `createRegistry` (default: the built-ins)
 */
export function resolveRefinerLayer(value: Refiner | TypedConfig, layerName: string, registry: Registry = defaultRegistry()): RefinerLayer {
  let refiner: Refiner;
  if (isConfig(value)) {
    const { type, args } = splitConfig(value);
    const spec = registry.refinerSpec(type);
    refiner = spec.create(parseArgs(spec.schema, args) as never);
    nameUnbuiltLayer(refiner, layerName);
  } else {
    refiner = value;
  }
  if (!(refiner instanceof RefinerLayer)) {
    const id = (refiner as { refinerId?: unknown } | null)?.refinerId ?? refiner;
    throw new ConfigError(
      'refiner',
      'must be a differentiable RefinerLayer to go inside a tf.model (apply a non-layer refiner to the model output instead: refiner.refine({ scores: model.predict(image), image }))',
      id,
    );
  }
  return refiner;
}

/**
 * A neck layer, or one built from its registry config and named `layerName`.
 * @param value - an instance or `{ type: 'sdn', … }`
 * @param layerName - tfjs layer name given to a neck built from a config
 * @param registry - from `createRegistry` (default: the built-ins)
 */
export function resolveNeck(value: Neck | TypedConfig, layerName: string, registry: Registry = defaultRegistry()): Neck {
  let neck: Neck;
  if (isConfig(value)) {
    const { type, args } = splitConfig(value);
    const spec = registry.necks().find((s) => s.id === type);
    if (spec === undefined) {
      throw new ConfigError('neck.type', `must be one of ${registry.neckIds().map((id) => `'${id}'`).join(', ') || '(no necks registered)'}`, type);
    }
    neck = spec.create(parseArgs(spec.schema, args) as never);
    nameUnbuiltLayer(neck, layerName);
  } else {
    neck = value;
  }
  if (!(neck instanceof tf.layers.Layer)) {
    throw new ConfigError('neck', 'must be a tf.layers.Layer mapping the pyramid to a pyramid (a NeckLayer) to go inside a tf.model', (neck as { neckId?: unknown } | null)?.neckId ?? neck);
  }
  return neck;
}
