/**
 * Creates the standard tfjs layers a backbone is made of, with deterministic
 * names (`<prefix>.<path>`, mirroring PyTorch state-dict keys such as
 * `seed.layer1.0.conv1`) and seeded initialisers, and remembers every layer so
 * the backbone can list its weights before it is wrapped in a `tf.model`.
 *
 * Deterministic names are what make `model.loadWeights()` and checkpoint
 * resume work on a freshly built model; seeds make two builds bit-identical.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_EPSILON } from '../core/batch_norm.js';

/** Options of {@link LayerFactory.conv}. */
export interface ConvOptions {
  /** Output channels. */
  filters: number;
  /** Square kernel size. */
  kernelSize: number;
  /** Stride. @defaultValue 1 */
  strides?: number;
  /** Dilation (atrous rate). @defaultValue 1 */
  dilation?: number;
  /** Add a bias (off before batch norm). @defaultValue false */
  useBias?: boolean;
  /**
   * Initialiser: `he` = He normal over fan-out (the ResNet/DifNet reference),
   * `classifier` = N(0, 0.01) as DeepLab's ASPP. @defaultValue 'he'
   */
  init?: 'he' | 'classifier';
  /**
   * `same` (tfjs: asymmetric for even sizes at stride 2) or `valid` (after an
   * explicit {@link LayerFactory.zeroPad}, for PyTorch's symmetric padding).
   * @defaultValue 'same'
   */
  padding?: 'same' | 'valid';
}

/** Batch-norm settings shared by every backbone (PyTorch's defaults). */
const BATCH_NORM = { momentum: 0.9, epsilon: BATCH_NORM_EPSILON } as const;

/** Pattern a name prefix must follow (tfjs's valid tensor-name characters). */
export const NAME_PATTERN = '^[A-Za-z0-9][-A-Za-z0-9._]*$';

/** Builds named, seeded layers under one prefix and keeps a list of them. */
export class LayerFactory {
  /** Every layer created, in creation order. */
  readonly layers: tf.layers.Layer[] = [];
  private seedCounter = 0;

  /**
   * @param prefix - name prefix of every layer, e.g. `'seed'`
   * @param seed - base seed of the initialisers
   */
  constructor(
    readonly prefix: string,
    private readonly seed: number,
  ) {}

  /** The full layer name for a path below the prefix. */
  name(path: string): string {
    return `${this.prefix}.${path}`;
  }

  /** A fresh deterministic seed for the next initialiser. */
  private nextSeed(): number {
    this.seedCounter += 1;
    // Spread bases apart so neighbouring backbone seeds do not share initialiser streams.
    return (this.seed * 10_007 + this.seedCounter) % 2_147_483_647;
  }

  private track<L extends tf.layers.Layer>(layer: L): L {
    this.layers.push(layer);
    return layer;
  }

  /**
   * A 2-D convolution (`same` padding unless `options.padding` says `valid`).
   * @param path - name below the prefix
   * @param options - channels, kernel, stride, dilation, bias, initialiser
   */
  conv(path: string, options: ConvOptions): tf.layers.Layer {
    const seed = this.nextSeed();
    const kernelInitializer = (options.init ?? 'he') === 'he'
      ? tf.initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'normal', seed })
      : tf.initializers.randomNormal({ mean: 0, stddev: 0.01, seed });
    return this.track(tf.layers.conv2d({
      name: this.name(path),
      filters: options.filters,
      kernelSize: options.kernelSize,
      strides: options.strides ?? 1,
      dilationRate: options.dilation ?? 1,
      padding: options.padding ?? 'same',
      useBias: options.useBias ?? false,
      kernelInitializer,
      biasInitializer: 'zeros',
    }));
  }

  /**
   * Batch normalisation (γ = 1, β = 0 at init, as the ResNet reference).
   * @param path - name below the prefix
   */
  batchNorm(path: string): tf.layers.Layer {
    return this.track(tf.layers.batchNormalization({ name: this.name(path), axis: -1, ...BATCH_NORM }));
  }

  /**
   * ReLU.
   * @param path - name below the prefix
   */
  relu(path: string): tf.layers.Layer {
    return this.track(tf.layers.reLU({ name: this.name(path) }));
  }

  /**
   * Element-wise sum of several inputs.
   * @param path - name below the prefix
   */
  add(path: string): tf.layers.Layer {
    return this.track(tf.layers.add({ name: this.name(path) }));
  }

  /**
   * Channel concatenation.
   * @param path - name below the prefix
   */
  concat(path: string): tf.layers.Layer {
    return this.track(tf.layers.concatenate({ name: this.name(path), axis: -1 }));
  }

  /**
   * Max pooling with stride 2 (3×3 is the ResNet stem's).
   * @param path - name below the prefix
   * @param poolSize - window size
   * @param padding - `same`, or `valid` after an explicit {@link LayerFactory.zeroPad}
   */
  maxPool(path: string, poolSize = 3, padding: 'same' | 'valid' = 'same'): tf.layers.Layer {
    return this.track(tf.layers.maxPooling2d({ name: this.name(path), poolSize, strides: 2, padding }));
  }

  /**
   * Symmetric zero padding of `pad` pixels on every side (PyTorch's
   * `padding=pad`), before a `valid` convolution or pooling.
   * @param path - name below the prefix
   * @param pad - pixels added before and after, in height and width
   */
  zeroPad(path: string, pad: number): tf.layers.Layer {
    return this.track(tf.layers.zeroPadding2d({ name: this.name(path), padding: [[pad, pad], [pad, pad]] }));
  }

  /**
   * Any other layer, tracked like the rest.
   * @param layer - a layer whose name was made with {@link LayerFactory.name}
   */
  custom<L extends tf.layers.Layer>(layer: L): L {
    return this.track(layer);
  }
}
