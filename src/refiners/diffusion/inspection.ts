/**
 * DifNet introspection (the paper's Fig. 3/4): importance and influence maps,
 * each walk's output and rows of the transition matrices.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../../core/errors.js';
import type { InspectionMap, RefinerInspection } from '../../core/refiner.js';
import type { DiffusionTrace } from './diffusion_head.js';

/** A node given by flat index `row · w + col`, or by `[row, col]` on the seed's grid. */
export type NodeRef = number | [number, number];

/** What {@link DiffusionHead.inspect} returns. Owns its tensors: call `dispose()`. */
export interface DiffusionInspection extends RefinerInspection {
  /** Importance map M `[B, h, w, 1]` in [0, 1]. */
  readonly importance: tf.Tensor4D;
  /** Influence map E = Σ_k |x_k| of the scores `[B, h, w, 1]`. */
  readonly influence: tf.Tensor4D;
  /** Seed s = M ⊙ x `[B, h, w, K]`. */
  readonly seed: tf.Tensor4D;
  /** Walk outputs y_1..y_T `[B, h, w, K]`. */
  readonly walks: readonly tf.Tensor4D[];
  /** Learned μ_t = σ(−α_t). */
  readonly mu: readonly number[];
  /** Learned β_t = σ(b_t). */
  readonly beta: readonly number[];
  /**
   * Rows of P_t for chosen nodes, each reshaped to the seed's grid
   * `[nodes.length, h, w]` (each row sums to 1). The caller owns the result.
   * @param walk - walk index t, 0-based
   * @param nodes - nodes as flat indices or `[row, col]`
   * @param batchIndex - which image of the batch
   */
  transitionRows(walk: number, nodes: readonly NodeRef[], batchIndex?: number): tf.Tensor3D;
  /** Releases every tensor of the inspection. */
  dispose(): void;
}

/** Builds the inspection object from a trace (takes ownership of it). */
export function createInspection(scores: tf.Tensor4D, trace: DiffusionTrace, mu: number[], beta: number[]): DiffusionInspection {
  const [batch, h, w] = scores.shape;
  const influence = tf.tidy(() => tf.sum(tf.abs(scores), 3, true) as tf.Tensor4D);
  const nodeIndex = (node: NodeRef): number => {
    const index = Array.isArray(node) ? node[0] * w + node[1] : node;
    const valid = Array.isArray(node) ? node[0] >= 0 && node[0] < h && node[1] >= 0 && node[1] < w : Number.isInteger(node) && node >= 0 && node < h * w;
    if (!valid) throw new ShapeError('transitionRows.nodes', `must be node indices in [0, ${h * w}) or [row, col] on the ${h}×${w} grid`, node);
    return index;
  };
  const maps: InspectionMap[] = [
    { caption: 'DifNet seed', kind: 'labels', tensor: trace.seed },
    { caption: 'importance M', kind: 'heat', tensor: trace.importance, range: [0, 1] },
    ...trace.walks.map((walk, t): InspectionMap => ({ caption: `walk ${t + 1}`, kind: 'labels', tensor: walk })),
  ];
  const importanceMean = tf.tidy(() => tf.mean(trace.importance).dataSync()[0]!);
  const rowMaps: tf.Tensor4D[] = [];
  const inspection: DiffusionInspection = {
    maps,
    values: { mu, beta, importanceMean: [importanceMean] },
    importance: trace.importance,
    influence,
    seed: trace.seed,
    walks: trace.walks,
    mu,
    beta,
    transitionRows(walk, nodes, batchIndex = 0) {
      if (!Number.isInteger(walk) || walk < 0 || walk >= trace.embeddings.length) {
        throw new ShapeError('transitionRows.walk', `must be an integer in [0, ${trace.embeddings.length})`, walk);
      }
      if (!Number.isInteger(batchIndex) || batchIndex < 0 || batchIndex >= batch) {
        throw new ShapeError('transitionRows.batchIndex', `must be an integer in [0, ${batch})`, batchIndex);
      }
      const indices = nodes.map(nodeIndex);
      return tf.tidy(() => {
        const embedding = tf.squeeze(tf.slice(trace.embeddings[walk]!, [batchIndex, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D;
        const queries = tf.gather(embedding, tf.tensor1d(indices, 'int32'));
        const rows = tf.softmax(tf.matMul(queries, tf.transpose(embedding)));
        return tf.reshape(rows, [indices.length, h, w]) as tf.Tensor3D;
      });
    },
    dispose() {
      tf.dispose([trace.importance, trace.seed, ...trace.embeddings, ...trace.walks, influence, ...rowMaps]);
    },
  };
  // Two rows of the last P_t (image 0): where the centre node and a node near a corner send their mass.
  const last = trace.embeddings.length - 1;
  if (last >= 0) {
    const nodes: [number, number][] = [[Math.floor(h / 2), Math.floor(w / 2)], [Math.floor(h / 4), Math.floor(w / 4)]];
    const rows = inspection.transitionRows(last, nodes);
    nodes.forEach((node, i) => {
      const row = tf.tidy(() => tf.reshape(tf.slice(rows, [i, 0, 0], [1, h, w]), [1, h, w, 1]) as tf.Tensor4D);
      rowMaps.push(row);
      maps.push({ caption: `P${last + 1} row (${node[0]},${node[1]})`, kind: 'heat', tensor: row });
    });
    rows.dispose();
  }
  return inspection;
}
