// Catalogue (issue 16), part 1: every refiner, denseCrf(), the random walk and the SDN neck.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConvCrf,
  createNeck,
  createRefiner,
  DataError,
  denseCrf,
  DenseCrf,
  DiffusionHead,
  IdentityRefiner,
  randomWalk,
  SegAwareBilateral,
  SegAwareCrf,
  ShapeError,
  SpnRefiner,
  type Refiner,
  type RefinerInputs,
  type RefineOptions,
} from '../../src/index.js';
import { checkWalkMemory, MATERIALIZED_MAX_BYTES, resolveWalkPath } from '../../src/refiners/diffusion/random_walk.js';
import { catalogue, filled, normal, scoped, unit, withNaN, type Own, type Row, type Shape4 } from './catalogue.js';

type InputsOf = (own: Own) => RefinerInputs;

/** A row that refines `inputs` with a refiner made by `make` (both released after). */
function refineRow(name: string, make: () => Refiner, inputs: InputsOf, error: Row['error'], message: RegExp, options?: RefineOptions): Row {
  return { name, error, message, run: () => scoped((own) => own(make()).refine(inputs(own), options)) };
}

/** A row whose error comes from building something (a constructor or factory). */
function buildRow(name: string, make: () => { dispose(): unknown }, error: Row['error'], message: RegExp): Row {
  return { name, error, message, run: () => scoped((own) => own(make())) };
}

const scores = (own: Own, shape: Shape4 = [1, 8, 8, 3]): tf.Tensor4D => own(normal(shape));
const image = (own: Own, shape: Shape4 = [1, 16, 16, 3]): tf.Tensor4D => own(unit(shape));

const identity: Row[] = [
  refineRow('none: scores missing', () => new IdentityRefiner(), () => ({}) as RefinerInputs, ShapeError, /inputs\.scores is required/),
  refineRow('none: rank-3 scores', () => new IdentityRefiner(), (own) => ({ scores: own(tf.zeros([8, 8, 3])) as unknown as tf.Tensor4D }), ShapeError, /inputs\.scores must be rank 4/),
  refineRow('none: int32 scores with negative values', () => new IdentityRefiner(), (own) => ({ scores: own(filled([1, 4, 4, 3], -2, 'int32')) }), DataError, /inputs\.scores must be float32 logits/),
  refineRow('none: NaN in the scores', () => new IdentityRefiner(), (own) => ({ scores: own(withNaN([1, 4, 4, 3])) }), DataError, /inputs\.scores must contain only finite values/),
  refineRow('none: outputSize [8.5, 8]', () => new IdentityRefiner(), (own) => ({ scores: scores(own) }), ConfigError, /options\.outputSize must be \[height, width\] of positive integers/, { outputSize: [8.5, 8] }),
  refineRow('none: outputSize "big"', () => new IdentityRefiner(), (own) => ({ scores: scores(own) }), ConfigError, /options\.outputSize/, { outputSize: 'big' as never }),
  refineRow('none: zero-width scores', () => new IdentityRefiner(), (own) => ({ scores: own(tf.zeros([1, 4, 0, 3])) as tf.Tensor4D }), ShapeError, /inputs\.scores must not have a zero-size dimension/),
  refineRow('none: an image it does not take', () => new IdentityRefiner(), (own) => ({ scores: scores(own), image: image(own) }), ShapeError, /inputs\.image is not taken by none/),
  buildRow('none: unknown argument', () => new IdentityRefiner({ outputsize: [4, 4] } as never), ConfigError, /none\/outputsize is not a known argument/),
];

const difnet = (args: ConstructorParameters<typeof DiffusionHead>[0] = {}) => () => new DiffusionHead({ walks: 1, embeddingDim: 4, ...args });
const level = (own: Own, shape: Shape4 = [1, 8, 8, 4]): tf.Tensor4D => own(normal(shape, 2));
const diffusion: Row[] = [
  buildRow('difnet: walks 0', () => new DiffusionHead({ walks: 0 }), ConfigError, /difnet\/walks must be >= 1/),
  buildRow('difnet: unknown argument walk', () => new DiffusionHead({ walk: 5 } as never), ConfigError, /difnet\/walk is not a known argument/),
  buildRow('difnet: walkPath "fast"', () => new DiffusionHead({ walkPath: 'fast' as never }), ConfigError, /difnet\/walkPath must be one of/),
  refineRow('difnet: two levels for one walk', difnet(), (own) => ({ scores: scores(own), features: [level(own), level(own)] }), ShapeError, /inputs\.features must have exactly 1 level/),
  refineRow('difnet: feature batch 2 for scores batch 1', difnet(), (own) => ({ scores: scores(own), features: [level(own, [2, 8, 8, 4])] }), ShapeError, /inputs\.features\[0\] must have the scores' batch size 1/),
  refineRow('difnet: int32 feature level', difnet(), (own) => ({ scores: scores(own), features: [own(filled([1, 8, 8, 4], 1, 'int32'))] }), DataError, /inputs\.features\[0\] must be float32/),
  refineRow('difnet: NaN in a feature level', difnet(), (own) => ({ scores: scores(own), features: [own(withNaN([1, 8, 8, 4]))] }), DataError, /inputs\.features\[0\] must contain only finite values/),
  refineRow(
    "difnet: walkPath 'materialized' on 160×160 seeds (P would be 2.5 GB)",
    difnet({ walkPath: 'materialized', embeddingDim: 8 }),
    (own) => ({ scores: own(tf.zeros([1, 160, 160, 4])) as tf.Tensor4D, features: [own(tf.zeros([1, 160, 160, 4])) as tf.Tensor4D] }),
    ConfigError,
    /difnet\/walkPath must be 'blocked' or 'auto' for inputs\.scores \[1, 160, 160, 4\].*MATERIALIZED_MAX_BYTES/,
  ),
  {
    name: 'difnet: apply() given an object instead of the input list',
    error: ShapeError,
    message: /difnet inputs must be a list \[scores, 1 feature level\(s\)\]/,
    run: () =>
      scoped((own) => {
        const head = own(new DiffusionHead({ walks: 1, embeddingDim: 4 }));
        return head.apply({ scores: scores(own), features: [level(own)] } as unknown as tf.Tensor[]);
      }),
  },
  {
    name: 'difnet: K changed after the head was built',
    error: ShapeError,
    message: /inputs\.scores must have K = 3 channels/,
    run: () =>
      scoped((own) => {
        const head = own(new DiffusionHead({ walks: 1, embeddingDim: 4 }));
        own(head.refine({ scores: scores(own), features: [level(own)] }));
        return head.refine({ scores: scores(own, [1, 8, 8, 5]), features: [level(own)] });
      }),
  },
  {
    name: "randomWalk: path 'materialized' for N = 9000 nodes",
    error: ConfigError,
    message: /randomWalk\.path must be 'blocked' or 'auto' for randomWalk\.embedding \(B = 1, N = 9000 nodes\)/,
    run: () =>
      scoped((own) => {
        const y = own(tf.zeros([1, 9000, 2])) as tf.Tensor3D;
        return randomWalk({ y, seed: y, embedding: own(tf.zeros([1, 9000, 2])) as tf.Tensor3D, mu: 0.5, beta: 0, path: 'materialized' });
      }),
  },
  {
    name: 'randomWalk: mu 2',
    error: DataError,
    message: /randomWalk\.mu must be a number in \[0, 1\]/,
    run: () => scoped((own) => randomWalk({ y: own(tf.zeros([1, 4, 2])) as tf.Tensor3D, seed: own(tf.zeros([1, 4, 2])) as tf.Tensor3D, embedding: own(tf.zeros([1, 4, 2])) as tf.Tensor3D, mu: 2, beta: 0 })),
  },
];

const spn = (args: ConstructorParameters<typeof SpnRefiner>[0] = {}) => () => new SpnRefiner({ guidanceWidth: 4, guidanceDepth: 1, ...args });
const spnRows: Row[] = [
  refineRow('spn: image missing', spn(), (own) => ({ scores: scores(own) }), ShapeError, /inputs\.image is required by spn/),
  refineRow('spn: image in 0–255', spn(), (own) => ({ scores: scores(own), image: own(filled([1, 16, 16, 3], 200)) }), DataError, /inputs\.image must hold RGB values in \[0, 1\], the library's image convention \(0–255 values\? divide by 255\)/),
  refineRow('spn: int32 image', spn(), (own) => ({ scores: scores(own), image: own(filled([1, 16, 16, 3], 1, 'int32')) }), DataError, /inputs\.image must be float32 RGB in \[0, 1\]/),
  refineRow('spn: negative image values', spn(), (own) => ({ scores: scores(own), image: own(filled([1, 16, 16, 3], -0.5)) }), DataError, /inputs\.image must hold RGB values in \[0, 1\]/),
  refineRow('spn: one-channel image', spn(), (own) => ({ scores: scores(own), image: image(own, [1, 16, 16, 1]) }), ShapeError, /inputs\.image must have 3 \(RGB\) channels/),
  refineRow('spn: image batch 2 for scores batch 1', spn(), (own) => ({ scores: scores(own), image: image(own, [2, 16, 16, 3]) }), ShapeError, /inputs\.image must have the scores' batch size 1/),
  refineRow("spn: guidance 'features' without a level", spn({ guidance: 'features' }), (own) => ({ scores: scores(own) }), ShapeError, /inputs\.features must have exactly 1 level/),
  buildRow("spn: mode 'sideways'", () => new SpnRefiner({ mode: 'sideways' as never }), ConfigError, /spn\/mode must be one of/),
];

const segaware: Row[] = [
  refineRow('segaware-bf: level missing', () => new SegAwareBilateral(), (own) => ({ scores: scores(own) }), ShapeError, /inputs\.features must have exactly 1 level/),
  refineRow('segaware-bf: int32 scores', () => new SegAwareBilateral(), (own) => ({ scores: own(filled([1, 8, 8, 3], -1, 'int32')), features: [level(own)] }), DataError, /inputs\.scores must be float32 logits/),
  refineRow('segaware-bf: NaN in the level', () => new SegAwareBilateral(), (own) => ({ scores: scores(own), features: [own(withNaN([1, 8, 8, 4]))] }), DataError, /inputs\.features\[0\] must contain only finite values/),
  buildRow('segaware-bf: unknown argument', () => new SegAwareBilateral({ radius: 3 } as never), ConfigError, /segaware-bf\/radius is not a known argument/),
  refineRow('segaware-crf: two levels', () => new SegAwareCrf(), (own) => ({ scores: scores(own), features: [level(own), level(own)] }), ShapeError, /inputs\.features must have exactly 1 level/),
  refineRow('segaware-crf: zero-height level', () => new SegAwareCrf(), (own) => ({ scores: scores(own), features: [own(tf.zeros([1, 0, 8, 4])) as tf.Tensor4D] }), ShapeError, /inputs\.features\[0\] must not have a zero-size dimension/),
  buildRow('segaware-crf: unknown argument', () => new SegAwareCrf({ iterationz: 2 } as never), ConfigError, /segaware-crf\/iterationz is not a known argument/),
];

const convCrf: Row[] = [
  buildRow('conv-crf: even kernelSize', () => new ConvCrf({ kernelSize: 6 }), ConfigError, /conv-crf\/kernelSize must be odd/),
  refineRow(
    'conv-crf: kernelSize 201 on a 128² image',
    () => new ConvCrf({ kernelSize: 201 }),
    (own) => ({ scores: scores(own, [1, 32, 32, 4]), image: image(own, [1, 128, 128, 3]) }),
    ConfigError,
    /conv-crf\/kernelSize is too large for inputs\.image \[1, 128, 128, 3\].*CONV_CRF_MAX_BYTES.*smaller kernelSize.*'dense-crf'/,
  ),
  refineRow('conv-crf: image in 0–255', () => new ConvCrf(), (own) => ({ scores: scores(own), image: own(filled([1, 16, 16, 3], 255)) }), DataError, /inputs\.image must hold RGB values in \[0, 1\]/),
  refineRow('conv-crf: int32 image', () => new ConvCrf(), (own) => ({ scores: scores(own), image: own(filled([1, 16, 16, 3], 0, 'int32')) }), DataError, /inputs\.image must be float32/),
  refineRow('conv-crf: one class', () => new ConvCrf(), (own) => ({ scores: scores(own, [1, 8, 8, 1]), image: image(own) }), ShapeError, /inputs\.scores must have a known number of classes ≥ 2/),
  refineRow('conv-crf: NaN in the image', () => new ConvCrf(), (own) => ({ scores: scores(own), image: own(withNaN([1, 16, 16, 3])) }), DataError, /inputs\.image must contain only finite values/),
];

const probabilities = (own: Own, shape: [number, number, number] = [8, 8, 2]): tf.Tensor3D => own(tf.fill(shape, 1 / shape[2]!)) as tf.Tensor3D;
const dense: Row[] = [
  refineRow('DenseCrf: image missing', () => new DenseCrf(), (own) => ({ scores: scores(own) }), ShapeError, /inputs\.image is required by dense-crf/),
  refineRow('DenseCrf: image in 0–255', () => new DenseCrf(), (own) => ({ scores: scores(own), image: own(filled([1, 16, 16, 3], 128)) }), DataError, /inputs\.image must hold RGB values in \[0, 1\]/),
  refineRow('DenseCrf: int32 scores', () => new DenseCrf(), (own) => ({ scores: own(filled([1, 8, 8, 3], -3, 'int32')), image: image(own) }), DataError, /inputs\.scores must be float32 logits/),
  refineRow('DenseCrf: one class', () => new DenseCrf(), (own) => ({ scores: scores(own, [1, 8, 8, 1]), image: image(own) }), ShapeError, /inputs\.scores must have at least 2 classes/),
  refineRow('DenseCrf: outputSize [-4, -4]', () => new DenseCrf(), (own) => ({ scores: scores(own), image: image(own) }), ConfigError, /options\.outputSize/, { outputSize: [-4, -4] }),
  {
    name: 'denseCrf(): float image in [0, 1]',
    error: DataError,
    message: /image must hold RGB values in 0\.\.255 as pydensecrf does.*tf\.mul\(image, 255\)/,
    run: () => scoped((own) => denseCrf(own(tf.fill([8, 8, 3], 0.5)) as tf.Tensor3D, probabilities(own))),
  },
  {
    name: 'denseCrf(): logits for probabilities',
    error: DataError,
    message: /probabilities must hold finite probabilities in \[0, 1\] \(logits\? apply a softmax first\)/,
    run: () => scoped((own) => denseCrf(own(tf.fill([8, 8, 3], 100)) as tf.Tensor3D, own(tf.fill([8, 8, 2], 3)) as tf.Tensor3D)),
  },
  {
    name: 'denseCrf(): probabilities of another size',
    error: ShapeError,
    message: /probabilities must be \[height, width, labels\] with the image's height 8 and width 8/,
    run: () => scoped((own) => denseCrf(own(tf.fill([8, 8, 3], 100)) as tf.Tensor3D, probabilities(own, [8, 6, 2]))),
  },
  {
    name: 'denseCrf(): RGBA bytes',
    error: ShapeError,
    message: /image\.data must hold height·width·3 = 12 bytes \(RGBA\? drop the alpha channel\)/,
    run: () => denseCrf({ data: new Uint8Array(16), height: 2, width: 2 }, { data: new Float32Array(8).fill(0.5), height: 2, width: 2, labels: 2 }),
  },
  {
    name: 'denseCrf(): a value of 300',
    error: DataError,
    message: /image must hold finite RGB values in \[0, 255\]/,
    run: () => scoped((own) => denseCrf(own(tf.fill([8, 8, 3], 300)) as tf.Tensor3D, probabilities(own))),
  },
];

const pyramid = (own: Own, batch = [1, 1]): tf.Tensor4D[] => [own(normal([batch[0]!, 16, 16, 4], 3)), own(normal([batch[1]!, 8, 8, 8], 4))];
const sdn = () => createNeck({ type: 'sdn' });
const neckRow = (name: string, features: (own: Own) => tf.Tensor4D[], error: Row['error'], message: RegExp): Row => ({
  name,
  error,
  message,
  run: () => scoped((own) => own(sdn()).refineFeatures(features(own))),
});
const neck: Row[] = [
  buildRow('sdn: unknown argument', () => createNeck({ type: 'sdn', fusion: 'identity' }), ConfigError, /sdn\/fusion is not a known argument/),
  neckRow('sdn: no level', () => [], ShapeError, /features must have at least one level for sdn/),
  neckRow('sdn: int32 level', (own) => [own(filled([1, 16, 16, 4], 1, 'int32')), own(normal([1, 8, 8, 8]))], DataError, /features\[0\] must be float32/),
  neckRow('sdn: NaN in a level', (own) => [own(normal([1, 16, 16, 4])), own(withNaN([1, 8, 8, 8]))], DataError, /features\[1\] must contain only finite values/),
  neckRow('sdn: batch 2 in level 1', (own) => pyramid(own, [1, 2]), ShapeError, /features\[1\] must have the batch size of features\[0\] \(1\)/),
  neckRow('sdn: zero-size level', (own) => [own(tf.zeros([1, 0, 16, 4])) as tf.Tensor4D], ShapeError, /features\[0\] must not have a zero-size dimension/),
  {
    name: 'sdn: three levels after it was built for two',
    error: ShapeError,
    message: /features must have 2 level\(s\), as when sdn was built/,
    run: () =>
      scoped((own) => {
        const built = own(sdn());
        tf.dispose(built.refineFeatures(pyramid(own)));
        return built.refineFeatures([...pyramid(own), own(normal([1, 4, 4, 8]))]);
      }),
  },
];

catalogue('reliability catalogue: refiners', [...identity, ...diffusion, ...spnRows, ...segaware, ...convCrf, ...dense, ...neck]);

describe('guards that let the safe paths through', () => {
  it("'auto' takes the blocked path where 'materialized' is refused, and the budget is 2^28 bytes", () => {
    expect(MATERIALIZED_MAX_BYTES).toBe(2 ** 28);
    expect(resolveWalkPath('auto', 1, 160 * 160)).toBe('blocked');
    expect(() => checkWalkMemory('auto', 1, 160 * 160)).not.toThrow();
    expect(() => checkWalkMemory('materialized', 1, 8192)).not.toThrow(); // exactly 2^28 bytes
    expect(() => checkWalkMemory('materialized', 1, 8193)).toThrow(ConfigError);
  });

  it('createNeck sdn with identity fusion: apply + dispose leaves no tensor', () => {
    const before = tf.memory().numTensors;
    const neckLayer = createNeck({ type: 'sdn' });
    const features = [normal([1, 16, 16, 4]), normal([1, 8, 8, 8])];
    tf.dispose(neckLayer.apply(features));
    tf.dispose(features);
    neckLayer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a [0, 1] image still refines through spn and conv-crf, and denseCrf takes 0–255', () => {
    // SPN's output stays at its propagation size (the image's); ConvCrf's at the scores'.
    for (const [make, size] of [[spn(), 16], [() => new ConvCrf(), 8]] as const) {
      const refiner = make();
      const s = normal([1, 8, 8, 3]);
      const im = unit([1, 16, 16, 3]);
      const out = refiner.refine({ scores: s, image: im });
      expect(out.shape).toEqual([1, size, size, 3]);
      tf.dispose([s, im, out]);
      refiner.dispose();
    }
    const q = tf.tidy(() => denseCrf(tf.fill([4, 4, 3], 200) as tf.Tensor3D, tf.fill([4, 4, 2], 0.5) as tf.Tensor3D));
    expect(q.shape).toEqual([4, 4, 2]);
    q.dispose();
  });
});

// The registry builds the same classes.
describe('registry names', () => {
  it('createRefiner makes each refiner of the catalogue', () => {
    for (const type of ['none', 'difnet', 'spn', 'segaware-bf', 'segaware-crf', 'conv-crf', 'dense-crf']) createRefiner({ type }).dispose();
  });
});
