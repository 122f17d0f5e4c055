/**
 * The segmentation-aware refiners' own training loss: the embedding loss on
 * the embeddings of the last training-mode forward pass, with the labels
 * brought to the embeddings' resolution (nearest neighbour, so void stays void).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { embeddingLoss } from './embedding_loss.js';

/** Holds one forward pass's embeddings until `train()` asks for the loss. */
export class EmbeddingLossTerm {
  private embedding: tf.Tensor4D | undefined;

  /**
   * Keeps a training-mode forward pass's embeddings (replacing any earlier ones).
   * @param embedding - `[B, h, w, D]`, recorded on the gradient tape
   */
  keep(embedding: tf.Tensor4D): void {
    this.release();
    this.embedding = tf.keep(embedding);
  }

  /**
   * The embedding loss of the kept embeddings, or null when none are kept.
   * @param labels - `[B, H, W]` at the image size
   */
  loss(labels: tf.Tensor3D): tf.Scalar | null {
    const embedding = this.embedding;
    if (embedding === undefined) return null;
    return tf.tidy(() => {
      const [, h, w] = embedding.shape;
      const resized = tf.image.resizeNearestNeighbor(tf.expandDims(tf.cast(labels, 'float32'), 3) as tf.Tensor4D, [h, w]);
      return embeddingLoss(embedding, tf.cast(tf.squeeze(resized, [3]), 'int32'));
    });
  }

  /** Disposes the kept embeddings. */
  release(): void {
    this.embedding?.dispose();
    this.embedding = undefined;
  }
}
