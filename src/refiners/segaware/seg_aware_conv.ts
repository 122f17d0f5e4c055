/**
 * SegAwareConv2D: segmentation-aware convolution (Harley et al. 2017, Eq. 7),
 * a drop-in for `tf.layers.conv2d` whose input patches are multiplied by the
 * local attention masks of an embedding before the filter is applied.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs, upgradeRenamedArgs } from '../../core/config.js';
import { ArgsObject, StringEnum, Type, type Static } from '../../core/schemas.js';
import { ShapeError } from '../../core/errors.js';
import { splitLayerArgs } from '../../core/refiner.js';
import type { LayerNameArgs } from './embedding_head.js';
import { tapMajorMasks } from './local_masks.js';
import { alignTap, flatLayout, inImageRows, toRows, windowGeometry, type FlatLayout, type WindowGeometry } from './window.js';

/** Activations {@link SegAwareConv2D} applies after the bias. */
export type SegAwareActivation = 'linear' | 'relu' | 'sigmoid' | 'tanh';

/**
 * How the masked sum is scaled: `'none'` as the authors' code
 * (`y = Σ_t W_t m_t x_t`), `'mean'` divides by the mean mask over the in-image
 * taps (`y · n / Σ_t m_t`), which keeps the output's scale as the masks sharpen.
 */
export type SegAwareNormalization = 'none' | 'mean';

/** Schema of {@link SegAwareConv2DArgs}: the arguments, their rules and defaults, declared once. */
const segAwareConv2DArgs = ArgsObject({
  /** Number of output channels. */
  filters: Type.Integer({ minimum: 1 }),
  /**
   * Window side (odd; the layer always pads 'same').
   */
  kernelSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 63, default: 3 })),
  /**
   * Dilation of the window.
   */
  dilationRate: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  /**
   * Add a learned bias.
   */
  useBias: Type.Optional(Type.Boolean({ default: true })),
  /**
   * Activation after the bias.
   */
  activation: Type.Optional(StringEnum(['linear', 'relu', 'sigmoid', 'tanh'], { default: 'linear' })),
  /**
   * Initial mask sharpness λ (the masks use |λ|); 0.05 in the authors' VGG.
   * λ = 0 makes the layer a plain convolution.
   */
  initialLambda: Type.Optional(Type.Number({ minimum: 0, default: 0.05 })),
  /**
   * Whether λ is learned.
   */
  trainableLambda: Type.Optional(Type.Boolean({ default: true })),
  /**
   * Embedding distance (`'l1'` Σ|Δ|, `'l2'` ½ΣΔ²).
   */
  distance: Type.Optional(StringEnum(['l1', 'l2'], { default: 'l1' })),
  /**
   * Scaling of the masked sum (see {@link SegAwareNormalization}).
   */
  normalization: Type.Optional(StringEnum(['none', 'mean'], { default: 'none' })),
  /**
   * Seed of the Glorot-uniform kernel initialiser.
   */
  seed: Type.Optional(Type.Integer({ default: 0 })),
});

/**
 * Arguments of {@link SegAwareConv2D}.
 * @interface
 */
export type SegAwareConv2DArgs = Static<typeof segAwareConv2DArgs>;

/** The parsed, complete arguments. */
type ResolvedArgs = Required<SegAwareConv2DArgs>;

/** Schema of {@link SegAwareConv2DArgs}. */
export const segAwareConv2DSchema = compileArgs('SegAwareConv2DArgs', segAwareConv2DArgs, { renamed: { lambdaInit: 'initialLambda', norm: 'distance' } });

function activate(x: tf.Tensor4D, activation: SegAwareActivation): tf.Tensor4D {
  switch (activation) {
    case 'relu':
      return tf.relu(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    default:
      return x;
  }
}

/**
 * Segmentation-aware 2-D convolution (Eq. 7): `apply([x, embedding])` with
 * `x` `[B, H, W, Cin]` and `embedding` `[B, H, W, D]` of the same size gives
 * `y_i = Σ_t W_t · m_it · x_{t(i)} + b` over the k×k dilated window ('same'
 * padding, stride 1), `m_it = exp(−|λ|·‖e_i − e_{t(i)}‖₁)`: the mask multiplies
 * each im2col patch before the filter, as in the authors' Caffe layers
 * (`Im2col` × tiled `exp(−λ·Im2dist)` → `Convolution` with `bottom_is_im2col`).
 * The kernel has `tf.layers.conv2d`'s layout `[k, k, Cin, filters]`, so weights
 * copy across; with λ = 0 every in-image mask is 1 and the layer computes
 * exactly `tf.conv2d(x, kernel, 1, 'same', 'NHWC', dilationRate)`.
 *
 * Normalisation: the authors' code does not normalise the masked convolution
 * (`normalization: 'none'`, the default); their normalised variant divides by
 * Σ_t m_t, which at λ = 0 would divide an ordinary convolution by k². The
 * `'mean'` option divides by the *mean* in-image mask instead, so it too
 * reduces to the plain convolution at λ = 0.
 */
export class SegAwareConv2D extends tf.layers.Layer {
  /** tfjs serialization name. */
  static readonly className = 'SegrefineSegAwareConv2D';

  /** Reloads models saved before an argument was renamed (the naming table of docs/concepts.md). */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(upgradeRenamedArgs(segAwareConv2DSchema, config));
  }
  private readonly args: ResolvedArgs;
  private readonly geometry: WindowGeometry;
  private kernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;
  private lambdaWeight?: tf.LayerVariable;

  /** @param args - see {@link SegAwareConv2DArgs} and {@link LayerNameArgs} */
  constructor(args: SegAwareConv2DArgs & LayerNameArgs) {
    const { layerArgs, own } = splitLayerArgs(args);
    super(layerArgs);
    this.args = parseArgs(segAwareConv2DSchema, own) as ResolvedArgs;
    this.geometry = windowGeometry(this.args.kernelSize, this.args.dilationRate, 'SegAwareConv2DArgs/');
  }

  private shapesOf(inputShape: tf.Shape | tf.Shape[]): [tf.Shape, tf.Shape] {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    if (shapes.length !== 2) throw new ShapeError('SegAwareConv2D inputs', 'must be [x, embedding] (2 tensors)', `${shapes.length} tensor(s)`);
    return [shapes[0]!, shapes[1]!];
  }

  /** Creates the kernel `[k, k, Cin, filters]`, the bias and λ. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [x] = this.shapesOf(inputShape);
    const channels = x[3];
    if (channels === null || channels === undefined) throw new ShapeError('inputs[0] (x)', 'must have a known channel count', x);
    const k = this.args.kernelSize;
    this.kernel = this.addWeight('kernel', [k, k, channels, this.args.filters], 'float32', tf.initializers.glorotUniform({ seed: this.args.seed }));
    if (this.args.useBias) this.bias = this.addWeight('bias', [this.args.filters], 'float32', tf.initializers.zeros());
    this.lambdaWeight = this.addWeight('lambda', [1], 'float32', tf.initializers.constant({ value: this.args.initialLambda }), undefined, this.args.trainableLambda);
    this.built = true;
  }

  /** The current mask sharpness |λ|. */
  lambda(): number {
    if (this.lambdaWeight === undefined) return Math.abs(this.args.initialLambda);
    return Math.abs(this.lambdaWeight.read().dataSync()[0]!);
  }

  private checkInputs(x: tf.Tensor, embedding: tf.Tensor): asserts x is tf.Tensor4D {
    if (x.rank !== 4) throw new ShapeError('inputs[0] (x)', 'must be rank 4 (NHWC)', x);
    if (embedding.rank !== 4) throw new ShapeError('inputs[1] (embedding)', 'must be rank 4 (NHWC)', embedding);
    if (embedding.shape[0] !== x.shape[0] || embedding.shape[1] !== x.shape[1] || embedding.shape[2] !== x.shape[2]) {
      throw new ShapeError('inputs[1] (embedding)', `must have x's batch, height and width [${x.shape.slice(0, 3).join(', ')}]`, embedding);
    }
    const channels = this.kernel!.shape[2];
    if (x.shape[3] !== channels) throw new ShapeError('inputs[0] (x)', `must have ${channels} channels (the layer was built for it)`, x);
  }

  /** One item: `[L, Cin]` rows and per-tap `[1, L]` masks (out-of-image taps 0) → `[L, filters]` rows. */
  private convolveItem(rows: tf.Tensor2D, perTap: tf.Tensor2D[], layout: FlatLayout, taps: tf.Tensor2D[]): tf.Tensor2D {
    let frame: tf.Tensor2D | undefined;
    for (let t = 0; t < layout.geometry.taps; t++) {
      // (m_t ⊙ x_t)·W_t = m_t ⊙ (x_t·W_t): filter first (fewer columns when filters < Cin), then shift and mask.
      const shifted = alignTap(tf.matMul(rows, taps[t]!), layout, t, 0);
      const maskColumn = tf.reshape(tf.pad(perTap[t]!, [[0, 0], [layout.reach, layout.reach]]), [layout.frameLength, 1]);
      const term = tf.mul(maskColumn, shifted) as tf.Tensor2D;
      frame = frame === undefined ? term : (tf.add(frame, term) as tf.Tensor2D);
    }
    let out = tf.slice(frame!, [layout.reach, 0], [layout.length, this.args.filters]);
    if (this.args.normalization === 'mean') {
      const count = tf.addN(inImageRows(layout));
      const total = tf.addN(perTap);
      out = tf.mul(out, tf.reshape(tf.div(count, tf.maximum(total, 1e-12)), [layout.length, 1]));
    }
    return out;
  }

  /** tfjs entry point: `[x, embedding]` → `[B, H, W, filters]`. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor4D {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      if (list.length !== 2) throw new ShapeError('SegAwareConv2D inputs', 'must be [x, embedding] (2 tensors)', `${list.length} tensor(s)`);
      const [x, embedding] = list as [tf.Tensor4D, tf.Tensor4D];
      this.checkInputs(x, embedding);
      const [batch, height, width] = x.shape;
      const { layout, items } = tapMajorMasks(embedding, this.geometry, tf.abs(this.lambdaWeight!.read()), this.args.distance);
      const k2 = this.geometry.taps;
      const taps = tf.unstack(tf.reshape(this.kernel!.read(), [k2, x.shape[3], this.args.filters])) as tf.Tensor2D[];
      const outRows = toRows(x, layout, false).map((rows, b) => this.convolveItem(rows, items[b]!, layout, taps));
      // Rows [L, filters] → [B, H, W, filters]: keep whole rows, crop the padded columns.
      const p = layout.columnPad;
      const stacked = tf.reshape(batch === 1 ? outRows[0]! : tf.stack(outRows), [batch * height, layout.paddedWidth * this.args.filters]);
      const cropped = p === 0 ? stacked : tf.slice(stacked, [0, p * this.args.filters], [batch * height, width * this.args.filters]);
      let y = tf.reshape(cropped, [batch, height, width, this.args.filters]) as tf.Tensor4D;
      if (this.bias !== undefined) y = tf.add(y, this.bias.read());
      return activate(y, this.args.activation);
    });
  }

  /** `[B, H, W, filters]`. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [x] = this.shapesOf(inputShape);
    return [x[0] ?? null, x[1] ?? null, x[2] ?? null, this.args.filters];
  }

  /** The constructor's args, for `model.save()`. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.args };
  }
}
tf.serialization.registerClass(SegAwareConv2D);
