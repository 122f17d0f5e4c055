/**
 * Panel tiles and learned values from a refiner's `inspect()` (DESIGN §6:
 * DifNet's seed, importance map, walks and P rows; any refiner can offer its
 * own through the `Refiner` contract).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { RefinerLayer, type InspectionMap, type Refiner, type RefinerInputs, type RefinerInspection } from '../core/refiner.js';
import type { EntryInspection } from './evaluate.js';
import { heatTile, labelTile, type PanelTile } from './report/panels.js';

async function mapTile(map: InspectionMap, size: [number, number]): Promise<PanelTile> {
  const [height, width] = size;
  if (map.kind === 'labels') {
    const labels = tf.tidy(() => tf.cast(tf.argMax(tf.image.resizeNearestNeighbor(tf.slice(map.tensor, [0], [1]), size), 3), 'int32'));
    const bytes = Uint8Array.from(await labels.data());
    labels.dispose();
    return labelTile(map.caption, bytes, width, height);
  }
  const heat = tf.tidy(() => tf.image.resizeNearestNeighbor(tf.slice(map.tensor, [0, 0, 0, 0], [1, -1, -1, 1]), size));
  const values = (await heat.data()) as Float32Array;
  heat.dispose();
  return heatTile(map.caption, values, width, height, map.range);
}

/**
 * Tiles (at the image size) and values of an inspection of one image.
 * @param inspection - from `refiner.inspect()`; disposed here
 * @param size - the image size `[height, width]`
 */
export async function inspectionTiles(inspection: RefinerInspection, size: [number, number]): Promise<EntryInspection> {
  try {
    const tiles: PanelTile[] = [];
    for (const map of inspection.maps) tiles.push(await mapTile(map, size));
    return { tiles, values: { ...inspection.values } };
  } finally {
    inspection.dispose();
  }
}

/** Whether a refiner offers `inspect()`. */
function inspectable(refiner: Refiner): refiner is Refiner & Required<Pick<Refiner, 'inspect'>> {
  return typeof refiner.inspect === 'function';
}

/**
 * An inspector for a model holding an inspectable refiner layer: runs the
 * model up to the refiner's inputs, then the refiner's `inspect()`.
 * Undefined when the model has none.
 * @param model - a bench entry's model
 */
export function modelInspector(model: tf.LayersModel): ((inputs: tf.Tensor[]) => Promise<EntryInspection>) | undefined {
  const refiner = model.layers.find((l): l is RefinerLayer => l instanceof RefinerLayer && inspectable(l));
  if (refiner === undefined || !inspectable(refiner)) return undefined;
  const wanted = [refiner.input].flat() as tf.SymbolicTensor[];
  // tfjs rejects a model listing one output twice (a refiner fed the image on several levels): compute each once.
  const unique = [...new Set(wanted)];
  const toRefinerInputs = tf.model({ inputs: model.inputs, outputs: unique });
  return async (inputs) => {
    const out = toRefinerInputs.predict(inputs.length === 1 ? inputs[0]! : inputs);
    const computed = (Array.isArray(out) ? out : [out]) as tf.Tensor4D[];
    const list = wanted.map((symbolic) => computed[unique.indexOf(symbolic)]!);
    try {
      const named = refiner.fromInputList(list);
      const refinerInputs: RefinerInputs = { scores: named.scores, features: named.features, ...(named.image ? { image: named.image } : {}) };
      const image = inputs[0] as tf.Tensor4D;
      return await inspectionTiles(refiner.inspect(refinerInputs), [image.shape[1], image.shape[2]]);
    } finally {
      tf.dispose(computed);
    }
  };
}
