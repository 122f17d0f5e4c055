/**
 * segrefine's Node-only parts (`segrefine/node`): VOC-layout datasets on disk
 * (decoded with sharp), the VOC exporter, checkpoints and models in
 * directories, helper threads for the blocked random walk, and weights files
 * by path (importing it lets backbone configs say `weights: 'resnet18.safetensors'`). Everything
 * else is in the portable core, `segrefine`.
 *
 * ```ts illustrative
 * import { createSegmenter, initBackend, train } from 'segrefine';
 * import { VocDataset, fileCheckpointStore } from 'segrefine/node';
 * await initBackend();
 * const data = await VocDataset.load('data/voc');
 * ```
 * @module segrefine/node
 */
import '../specs.js';
import './weights_files.js';

export { VocDataset, type VocDatasetOptions, type SkippedSample } from './voc/dataset.js';
export { exportVoc, type ExportVocOptions, type ExportVocResult } from './voc/export.js';
export { encodePalettePng } from './voc/png.js';
export { fileCheckpointStore, fileSystemIO, loadCheckpointModel } from './checkpoint_files.js';
export { readSafetensors } from './weights_files.js';
export { startWalkWorkers, stopWalkWorkers, walkWorkerCount, walkWorkerRows, type WalkWorkerOptions } from './walk_workers.js';
