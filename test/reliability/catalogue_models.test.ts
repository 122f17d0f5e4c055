// Catalogue (issue 16), part 2: the registry factories, backbones, models,
// the loss, coarse scores, the evaluator and initBackend.
import * as tf from '@tensorflow/tfjs';
import {
  coarseScores,
  ConfigError,
  createBackbone,
  createDifNet,
  createNeck,
  createRefiner,
  createSegmenter,
  DataError,
  initBackend,
  type LayerBackbone,
  SegmentationEvaluator,
  segmentationCrossEntropy,
  ShapeError,
} from '../../src/index.js';
import { catalogue, filled, normal, scoped, unit, withNaN, type Own, type Row } from './catalogue.js';

const labels = (own: Own, value = 0, shape: [number, number, number] = [1, 8, 8]): tf.Tensor3D => own(tf.fill(shape, value, 'int32')) as tf.Tensor3D;
const throws = (name: string, run: () => unknown, error: Row['error'], message: RegExp): Row => ({ name, run, error, message });

const factories: Row[] = [
  throws('createRefiner: type "dfinet"', () => createRefiner({ type: 'dfinet' }), ConfigError, /refiner\.type must be one of 'none', 'difnet'/),
  throws('createRefiner: walk instead of walks', () => createRefiner({ type: 'difnet', walk: 5 }), ConfigError, /difnet\/walk is not a known argument/),
  throws('createRefiner: null', () => createRefiner(null as never), ConfigError, /refiner/),
  throws('createRefiner: conv-crf kernelSize 0', () => createRefiner({ type: 'conv-crf', kernelSize: 0 }), ConfigError, /conv-crf\/kernelSize must be >= 1/),
  throws('createNeck: type "sdm"', () => createNeck({ type: 'sdm' }), ConfigError, /neck\.type must be one of 'sdn'/),
  throws('createBackbone: type "resnet50"', () => createBackbone({ type: 'resnet50' }), ConfigError, /backbone\.type must be one of/),
  throws('createBackbone: fcn with 0 classes', () => createBackbone({ type: 'fcn', classes: 0 }), ConfigError, /fcn\/classes must be >= 2/),
  throws('createBackbone: resnet with 1 class', () => createBackbone({ type: 'resnet', classes: 1 }), ConfigError, /resnet\/classes must be >= 2, got 1/),
  throws('createDifNet: 1 class', () => createDifNet({ classes: 1 }), ConfigError, /DifNetArgs\/classes must be >= 2, got 1/),
  throws('createBackbone: fcn channels 0', () => createBackbone({ type: 'fcn', classes: 3, channels: 0 }), ConfigError, /fcn\/channels must be >= 1/),
  throws('createBackbone: sim-deeplab depth 19', () => createBackbone({ type: 'sim-deeplab', classes: 3, depth: 19 }), ConfigError, /sim-deeplab\/depth must be one of/),
];

const fcn = () => createBackbone({ type: 'fcn', classes: 3, channels: 4 }) as LayerBackbone;
const backbones: Row[] = [
  { name: 'fcn.apply: int32 image', error: DataError, message: /fcn image must be float32 RGB in \[0, 1\]/, run: () => scoped((own) => own(fcn()).apply(own(filled([1, 16, 16, 3], 1, 'int32')))) },
  { name: 'fcn.apply: image in 0–255', error: DataError, message: /fcn image must hold RGB values in \[0, 1\], the library's image convention/, run: () => scoped((own) => own(fcn()).apply(own(filled([1, 16, 16, 3], 128)))) },
  { name: 'fcn.apply: one channel', error: ShapeError, message: /fcn image must have 3 \(RGB\) channels/, run: () => scoped((own) => own(fcn()).apply(own(unit([1, 16, 16, 1])))) },
  { name: 'fcn.apply: zero batch', error: ShapeError, message: /fcn image must not have a zero-size dimension/, run: () => scoped((own) => own(fcn()).apply(own(tf.zeros([0, 16, 16, 3])) as tf.Tensor4D)) },
  { name: 'fcn.apply: NaN in the image', error: DataError, message: /fcn image must contain only finite values/, run: () => scoped((own) => own(fcn()).apply(own(withNaN([1, 16, 16, 3])))) },
];

const models: Row[] = [
  throws('createSegmenter: "refinr" (typo)', () => createSegmenter({ backbone: { type: 'fcn', classes: 4 }, refinr: { type: 'spn' } } as never), ConfigError, /createSegmenter options\.refinr is not a known option/),
  throws('createSegmenter: difnet with 7 walks on a 5-level pyramid', () => createSegmenter({ backbone: { type: 'fcn', classes: 4 }, refiner: { type: 'difnet', walks: 7 } }), ConfigError, /refiner 'difnet' takes 7 pyramid level\(s\)/),
  throws('createSegmenter: neck "sdm"', () => createSegmenter({ backbone: { type: 'fcn', classes: 4 }, neck: { type: 'sdm' } }), ConfigError, /neck\.type must be one of/),
  throws('createSegmenter: featureLevels [9]', () => createSegmenter({ backbone: { type: 'fcn', classes: 4 }, refiner: { type: 'segaware-bf' }, featureLevels: [9] }), ConfigError, /featureLevels\[0\] must be an integer in 0\.\.4/),
  throws('createSegmenter: inputSize [0, 64]', () => createSegmenter({ backbone: { type: 'fcn', classes: 4 }, inputSize: [0, 64] }), ConfigError, /inputSize must be \[height, width\] of positive integers/),
  throws('createSegmenter: unknown backbone argument', () => createSegmenter({ backbone: { type: 'fcn', classes: 4, chanels: 8 } }), ConfigError, /fcn\/chanels is not a known argument/),
  throws('createDifNet: walks 0', () => createDifNet({ walks: 0 }), ConfigError, /DifNetArgs\/walks must be >= 1/),
  throws('createDifNet: classes 2.5', () => createDifNet({ classes: 2.5 }), ConfigError, /DifNetArgs\/classes must be integer/),
  throws('createDifNet: unknown argument', () => createDifNet({ walkz: 3 } as never), ConfigError, /DifNetArgs\/walkz is not a known argument/),
];

const loss: Row[] = [
  { name: 'segmentationCrossEntropy: label 5 with K = 3', error: DataError, message: /labels must be in \[0, 3\) or 255 \(void\), got 5/, run: () => scoped((own) => segmentationCrossEntropy(own(normal([1, 4, 4, 3])), labels(own, 5))) },
  { name: 'segmentationCrossEntropy: float labels', error: DataError, message: /labels must have dtype int32/, run: () => scoped((own) => segmentationCrossEntropy(own(normal([1, 4, 4, 3])), own(tf.zeros([1, 8, 8])) as tf.Tensor3D)) },
  { name: 'segmentationCrossEntropy: batch 2 labels for batch 1 logits', error: ShapeError, message: /labels must have the logits' batch size 1/, run: () => scoped((own) => segmentationCrossEntropy(own(normal([1, 4, 4, 3])), labels(own, 0, [2, 8, 8]))) },
  { name: 'segmentationCrossEntropy: int32 logits', error: DataError, message: /logits must be float32 logits/, run: () => scoped((own) => segmentationCrossEntropy(own(filled([1, 4, 4, 3], -1, 'int32')), labels(own))) },
  { name: 'segmentationCrossEntropy: two class weights for K = 3', error: ConfigError, message: /classWeights must have one weight per class \(3\)/, run: () => scoped((own) => segmentationCrossEntropy(own(normal([1, 4, 4, 3])), labels(own), { classWeights: [1, 2] })) },
  { name: 'segmentationCrossEntropy: zero-size labels', error: ShapeError, message: /labels must not have a zero-size dimension/, run: () => scoped((own) => segmentationCrossEntropy(own(normal([1, 4, 4, 3])), labels(own, 0, [1, 0, 8]))) },
];

const coarse: Row[] = [
  { name: 'coarseScores: label 7 with 3 classes', error: DataError, message: /labels must be in \[0, 3\) or 255 \(void\), got 7/, run: () => scoped((own) => coarseScores(labels(own, 7), ['a'], { classes: 3 })) },
  { name: 'coarseScores: 1 class', error: ConfigError, message: /coarseScores\.classes must be an integer >= 2/, run: () => scoped((own) => coarseScores(labels(own), ['a'], { classes: 1 })) },
  { name: 'coarseScores: two ids for one image', error: ShapeError, message: /ids must have one id per batch item \(1\)/, run: () => scoped((own) => coarseScores(labels(own), ['a', 'b'], { classes: 3 })) },
  { name: 'coarseScores: float labels', error: DataError, message: /labels must be int32 class ids/, run: () => scoped((own) => coarseScores(own(tf.zeros([1, 8, 8])) as tf.Tensor3D, ['a'], { classes: 3 })) },
  { name: 'coarseScores: zero-size labels', error: ShapeError, message: /labels must not have a zero-size dimension/, run: () => scoped((own) => coarseScores(labels(own, 0, [1, 0, 4]), ['a'], { classes: 3 })) },
];

const evaluator = () => new SegmentationEvaluator({ numClasses: 3 });
const evaluation: Row[] = [
  throws('SegmentationEvaluator: numClasses 0', () => new SegmentationEvaluator({ numClasses: 0 }), ConfigError, /numClasses must be an integer in \[1, 65536\]/),
  throws('SegmentationEvaluator: 2 class names for 3 classes', () => new SegmentationEvaluator({ numClasses: 3, classNames: ['a', 'b'] }), ConfigError, /EvaluatorOptions\/classNames must list 3 names/),
  { name: 'SegmentationEvaluator.update: truth label 9', error: DataError, message: /truth must hold class indices in \[0, 3\) or 255/, run: () => scoped((own) => evaluator().update(labels(own, 0), labels(own, 9))) },
  { name: 'SegmentationEvaluator.update: NaN logits', error: DataError, message: /pred must contain only finite values/, run: () => scoped((own) => evaluator().update(own(withNaN([1, 8, 8, 3])), labels(own))) },
  { name: 'SegmentationEvaluator.update: prediction of another size', error: ShapeError, message: /pred must have the shape of truth \[1, 8, 8\]/, run: () => scoped((own) => evaluator().update(labels(own, 0, [1, 4, 4]), labels(own))) },
  { name: 'SegmentationEvaluator.update: predicted class 3 of 3', error: DataError, message: /pred must hold class indices in \[0, 3\)/, run: () => scoped((own) => evaluator().update(labels(own, 3), labels(own))) },
  throws('SegmentationEvaluator.result: nothing counted', () => evaluator().result(), DataError, /needs at least one counted pixel/),
];

const backend: Row[] = [
  {
    name: "initBackend('nope')",
    error: ConfigError,
    message: /initBackend\(preference\) must be one of auto, /,
    run: async () => {
      const override = process.env['SEGREFINE_BACKEND']; // (it would replace the preference)
      delete process.env['SEGREFINE_BACKEND'];
      try {
        return await initBackend('nope' as never);
      } finally {
        if (override !== undefined) process.env['SEGREFINE_BACKEND'] = override;
      }
    },
  },
];

catalogue('reliability catalogue: factories, backbones, models, loss, coarse scores, metrics, backend', [
  ...factories,
  ...backbones,
  ...models,
  ...loss,
  ...coarse,
  ...evaluation,
  ...backend,
]);
