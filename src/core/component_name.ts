/**
 * One name per component. A refiner, backbone or neck is named by its
 * registry id alone (`'difnet'`): it is the `type` of its config, the
 * {@link Registry}'s key, the prefix of its argument errors
 * (`difnet/walks must be >= 1, got 0`) and, for layers, the tfjs class name
 * in saved models as `segrefine>difnet` (Keras's `package>name` form for
 * registered custom objects). Class names of earlier versions stay loadable.
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** Prefix of the tfjs class names of segrefine's components. */
const PACKAGE = 'segrefine';

/**
 * The tfjs class name of a component's layer: `segrefine>` + its registry id.
 * @param id - the registry id, e.g. `'difnet'`
 */
export function componentClassName(id: string): string {
  return `${PACKAGE}>${id}`;
}

/** The name after `>` in a `package>name` class name (`segrefine>difnet` → `difnet`), or undefined for a plain class name. */
function registeredNameOf(className: string): string | undefined {
  const at = className.lastIndexOf('>');
  return at < 0 ? undefined : className.slice(at + 1);
}

const layerCounts = new Map<string, number>();

/** tfjs's base layer arguments (`name`, `trainable`, …). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/**
 * `args` with a default `name` for a layer of class `layerClass` (the
 * constructor's `new.target`) when none is given: see
 * {@link defaultComponentLayerName}. Base classes pass their args through it.
 * @param args - the layer's tfjs args
 * @param layerClass - the class being constructed
 */
export function withDefaultLayerName(args: LayerArgs, layerClass: unknown): LayerArgs {
  return { ...args, name: args.name ?? defaultComponentLayerName((layerClass as { className: string }).className) };
}

/**
 * A fresh default layer name for a layer whose class name has the
 * `package>name` form: `difnet_1`, `difnet_2`, … (tfjs would derive it from
 * the class name, and `>` is not allowed in a tensor name). Undefined for a
 * plain class name: tfjs's own default applies.
 * @param className - the layer class's static `className`
 */
function defaultComponentLayerName(className: string): string | undefined {
  const name = registeredNameOf(className);
  if (name === undefined) return undefined;
  const base = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[^A-Za-z0-9]/, 'x');
  const count = (layerCounts.get(base) ?? 0) + 1;
  layerCounts.set(base, count);
  return `${base}_${count}`;
}

/** A layer class tfjs can serialise: its class name and `fromConfig`. */
type LayerClass = tf.serialization.SerializableConstructor<tf.serialization.Serializable>;

/**
 * Registers a component's layer class for tfjs serialisation under its
 * class name, and under the names earlier versions saved it as, so those
 * models keep loading (re-saved, they carry the current name).
 * @param cls - the layer class (its `className` from {@link componentClassName})
 * @param formerClassNames - class names of earlier versions, e.g. `['SegrefineDiffusionHead']`
 */
export function registerComponentClass(cls: LayerClass, formerClassNames: readonly string[] = []): void {
  tf.serialization.registerClass(cls);
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  for (const former of formerClassNames) map[former] = [cls, cls.fromConfig];
}
