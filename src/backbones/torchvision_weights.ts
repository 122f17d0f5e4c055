/**
 * Loads a torchvision ResNet `state_dict` (saved as safetensors) into an
 * {@link AtrousResNet}: our layer names already follow torchvision's
 * parameter names (`conv1`, `layer1.0.bn2`, `layer2.0.downsample.0`, …), so
 * each layer takes its parameters by name. Convolution kernels go from
 * PyTorch's OIHW to tfjs's HWIO; batch norm's `weight`, `bias`,
 * `running_mean`, `running_var` become γ, β, moving mean and moving variance.
 * `fc.*` (the ImageNet classifier) and `num_batches_tracked` are ignored.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../core/errors.js';
import { parseSafetensors, type SafetensorsFile } from '../core/safetensors.js';
import { weightsBytes } from '../core/weights_reader.js';
import type { AtrousResNet, ResNetPadding } from './atrous_resnet.js';
import type { LayerBackbone } from './layer_backbone.js';
import type { PretrainedArgs } from './schemas.js';

/**
 * Weights of a backbone: a path to a `.safetensors` file (read by the reader
 * `segrefine/node` installs; a string is what an experiment file or the CLI
 * can hold) or the file's bytes (works everywhere, including browsers).
 */
export type WeightsSource = string | Uint8Array | ArrayBuffer;

/** PyTorch names of a batch-norm layer's weights, by tfjs weight name. */
const BATCH_NORM_NAMES: Record<string, string> = { gamma: 'weight', beta: 'bias', moving_mean: 'running_mean', moving_variance: 'running_var' };

/** Parameters a torchvision state_dict holds that the backbone does not take. */
function ignored(key: string, builtStages: number): boolean {
  if (key.startsWith('fc.') || key.endsWith('.num_batches_tracked') || key === 'num_batches_tracked') return true;
  // A body built with fewer stages (DifNet's similarity branch for fewer walks) skips the later ones.
  const stage = /^layer([1-4])\./.exec(key);
  return stage !== null && Number(stage[1]) > builtStages;
}

/** OIHW → HWIO. */
function oihwToHwio(values: Float32Array, shape: number[]): Float32Array {
  const [o, i, h, w] = shape as [number, number, number, number];
  const out = new Float32Array(values.length);
  for (let oo = 0; oo < o; oo++) {
    for (let ii = 0; ii < i; ii++) {
      for (let hh = 0; hh < h; hh++) {
        for (let ww = 0; ww < w; ww++) out[((hh * w + ww) * i + ii) * o + oo] = values[((oo * i + ii) * h + hh) * w + ww]!;
      }
    }
  }
  return out;
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * Parses a weights source (path or bytes) as safetensors.
 * @param source - a path or the file's bytes
 * @param argument - how to name it in errors
 */
export function readTorchvisionWeights(source: WeightsSource, argument = 'weights'): SafetensorsFile {
  return parseSafetensors(weightsBytes(source, argument), typeof source === 'string' ? `${argument} (${source})` : argument);
}

/**
 * Sets every weight of a ResNet body from a torchvision state_dict. The body
 * must be built (applied once). Every parameter the body needs must be in the
 * file with torchvision's shape, and the file may hold nothing else but
 * `fc.*`, `num_batches_tracked` and the stages the body does not build; otherwise a {@link ConfigError} names the
 * parameter, the expected and the received shape (a file for another depth
 * or width does not fit).
 * @param body - the built ResNet body
 * @param prefix - its layer-name prefix (`'resnet'` for `resnet.layer1.0.conv1`)
 * @param file - the parsed state_dict
 * @param what - the network, for messages (`'ResNet-18 at width 1'`)
 */
export function loadTorchvisionResNet(body: AtrousResNet, prefix: string, file: SafetensorsFile, what: string): void {
  const used = new Set<string>();
  const take = (key: string, expected: number[]): Float32Array => {
    const tensor = file.tensors.get(key);
    if (tensor === undefined) throw new ConfigError('weights', `must hold '${key}' ${shapeText(expected)} for a torchvision ${what} (is the file for another depth?)`, 'missing');
    if (tensor.shape.length !== expected.length || tensor.shape.some((d, i) => d !== expected[i])) {
      throw new ConfigError(`weights['${key}']`, `must have shape ${shapeText(expected)} for a torchvision ${what} (is the file for another depth or width?)`, `shape ${shapeText(tensor.shape)}`);
    }
    if (tensor.values === null) throw new DataError(`weights['${key}']`, 'must be a float tensor (F32, F16, BF16 or F64)', tensor.dtype);
    used.add(key);
    return tensor.values;
  };
  const updates: { layer: tf.layers.Layer; values: { data: Float32Array; shape: number[] }[] }[] = [];
  for (const layer of body.layers) {
    if (layer.weights.length === 0) continue;
    if (!layer.name.startsWith(`${prefix}.`)) throw new ConfigError('weights', `cannot be loaded: layer '${layer.name}' is outside the prefix '${prefix}'`, layer.name);
    const path = layer.name.slice(prefix.length + 1);
    const className = layer.getClassName();
    if (className === 'Conv2D') {
      if (layer.weights.length !== 1) throw new ConfigError('weights', `cannot be loaded into convolution '${layer.name}' with a bias`, layer.name);
      const [h, w, i, o] = layer.weights[0]!.shape as [number, number, number, number];
      const oihw = [o, i, h, w];
      updates.push({ layer, values: [{ data: oihwToHwio(take(`${path}.weight`, oihw), oihw), shape: [h, w, i, o] }] });
    } else if (className === 'BatchNormalization') {
      const values = layer.weights.map((weight) => {
        const short = weight.originalName.split('/').pop()!;
        const torchName = BATCH_NORM_NAMES[short];
        if (torchName === undefined) throw new ConfigError('weights', `cannot be loaded into batch-norm weight '${weight.originalName}'`, short);
        return { data: take(`${path}.${torchName}`, weight.shape as number[]), shape: weight.shape as number[] };
      });
      updates.push({ layer, values });
    } else {
      throw new ConfigError('weights', `cannot be loaded into layer '${layer.name}' (${className})`, className);
    }
  }
  const extra = [...file.tensors.keys()].filter((key) => !used.has(key) && !ignored(key, body.stageCount));
  if (extra.length > 0) {
    const listed = extra.length > 4 ? `${extra.slice(0, 4).join(', ')}, … (${extra.length} in all)` : extra.join(', ');
    throw new ConfigError('weights', `must hold only parameters of a torchvision ${what} (and fc.*), but also holds ${listed} (is the file for another depth?)`, extra[0]);
  }
  // Everything checked: now write (a bad file leaves the weights untouched).
  for (const { layer, values } of updates) {
    tf.tidy(() => layer.setWeights(values.map(({ data, shape }) => tf.tensor(data, shape, 'float32'))));
  }
}

/** {@link PretrainedArgs} resolved: the parsed file and the conventions it implies. */
export interface ResolvedPretrained {
  /** The weights as given (null: random initialisation). */
  readonly weights: WeightsSource | null;
  /** The parsed file, undefined without weights. */
  readonly file: SafetensorsFile | undefined;
  /** Padding of the strided convolutions and the max pool. */
  readonly padding: ResNetPadding;
  /** Whether the body normalises its input with ImageNet's mean and std. */
  readonly normalize: boolean;
}

/**
 * Parses the weights file first (a bad file fails before any layer or weight
 * exists) and resolves `padding` and `normalize`: torchvision's conventions
 * when weights are given, unless stated.
 * @param args - the backbone's parsed arguments
 * @param argument - how to name `weights` in errors, e.g. `resnet/weights`
 */
export function resolvePretrained(args: PretrainedArgs, argument: string): ResolvedPretrained {
  const weights = args.weights ?? null;
  const file = weights === null ? undefined : readTorchvisionWeights(weights, argument);
  return { weights, file, padding: args.padding ?? (weights === null ? 'same' : 'torch'), normalize: args.normalize ?? weights !== null };
}

/** What the network is called in error messages: `ResNet-18`, `ResNet-50 at width 0.25`. */
export function torchvisionName(depth: number, width: number): string {
  return `ResNet-${depth}${width === 1 ? '' : ` at width ${width}`}`;
}

/**
 * Builds every layer of `backbone` with one small eager pass (no graph nodes
 * are left behind), then overwrites its ResNet body's weights from `file`;
 * any other layer (a classifier, ASPP) stays freshly initialised. On a bad
 * file the backbone is disposed and the error rethrown.
 * @param backbone - the backbone holding `body`
 * @param body - its ResNet body
 * @param prefix - the body's layer-name prefix
 * @param file - the parsed state_dict
 * @param what - the network, for messages
 */
export function loadIntoBackbone(backbone: LayerBackbone, body: AtrousResNet, prefix: string, file: SafetensorsFile, what: string): void {
  tf.dispose(tf.tidy(() => {
    const out = backbone.apply(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D);
    return [out.scores, ...out.features];
  }));
  try {
    loadTorchvisionResNet(body, prefix, file, what);
  } catch (error) {
    backbone.dispose();
    throw error;
  }
}
