import * as tf from '@tensorflow/tfjs';

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An embedding whose per-channel values are a seeded permutation of a grid of
 * step `step`: no two pixels share a channel value, so every |Δ| in an L1
 * distance stays ≥ step, clear of the kink at 0 that finite differences of
 * size ~1e-2 would straddle.
 */
export function spacedEmbedding(shape: [number, number, number, number], seed: number, step = 0.3): tf.Tensor4D {
  const random = rng(seed);
  const pixels = shape[0] * shape[1] * shape[2];
  const channels = shape[3];
  const values = new Float32Array(pixels * channels);
  for (let c = 0; c < channels; c++) {
    const order = Array.from({ length: pixels }, (_, i) => i);
    for (let i = pixels - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    order.forEach((rank, p) => {
      values[p * channels + c] = rank * step - (pixels * step) / 2;
    });
  }
  return tf.tensor4d(values, shape);
}

/** Saves a model through an in-memory handler and loads it back. */
export async function saveAndReload(model: tf.LayersModel): Promise<tf.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tf.loadLayersModel(tf.io.fromMemory(saved!));
}
