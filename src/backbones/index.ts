/**
 * Built-in backbones, in the order the registry lists them.
 * @module
 */
import type { BackboneSpec } from '../core/registry.js';
import { fcnSpec } from './fcn.js';
import { resnetSpec } from './resnet.js';
import { simDeepLabSpec } from './sim_deeplab.js';
import { unetSpec } from './unet.js';

export { AtrousResNet, scaledChannels, type AtrousResNetOptions, type ResNetOutputs, type ResNetDepth, type OutputStride, type ResNetPadding } from './atrous_resnet.js';
export { ImageNormalization, IMAGENET_MEAN, IMAGENET_STD, type ImageNormalizationArgs } from './image_normalization.js';
export { loadTorchvisionResNet, readTorchvisionWeights, type WeightsSource } from './torchvision_weights.js';
export { AsppHead } from './aspp.js';
export { LayerFactory, NAME_PATTERN, type ConvOptions } from './layer_factory.js';
export { LayerBackbone, LayerRunner, checkImage, type GraphTensor, type BackboneGeometry } from './layer_backbone.js';
export { ResizeToMatch } from './resize_to_match.js';
export { ResNetBackbone, resnetSpec, type ResNetBackboneArgs } from './resnet.js';
export { SimDeepLab, simDeepLabSpec, simDeepLabSchema, type SimDeepLabArgs } from './sim_deeplab.js';
export { TinyFcn, fcnSpec, type TinyFcnArgs } from './fcn.js';
export { SmallUNet, unetSpec, type SmallUNetArgs } from './unet.js';
export { fromLayersModel, LayersModelBackbone, type FromLayersModelOptions } from './from_layers_model.js';

/** The backbone specs `createRegistry()` holds by default. */
export const builtinBackboneSpecs: readonly BackboneSpec<never>[] = [
  resnetSpec as BackboneSpec<never>,
  simDeepLabSpec as BackboneSpec<never>,
  fcnSpec as BackboneSpec<never>,
  unetSpec as BackboneSpec<never>,
];
