/**
 * Drawing the playground's maps: captioned canvases filled with
 * `tf.browser.toPixels`, labels in the VOC colours.
 */
import * as tf from '@tensorflow/tfjs';

/** Appends a captioned canvas to `parent` and returns the canvas; `small` for the DifNet steps. */
export function addFigure(parent: HTMLElement, caption: string, small = false): HTMLCanvasElement {
  const figure = document.createElement('figure');
  if (small) figure.classList.add('small');
  const canvas = document.createElement('canvas');
  const text = document.createElement('figcaption');
  text.textContent = caption;
  figure.append(canvas, text);
  parent.append(figure);
  return canvas;
}

/** Draws RGB bytes (`height × width × 3`). */
export async function drawImage(canvas: HTMLCanvasElement, image: Uint8Array, height: number, width: number): Promise<void> {
  const pixels = tf.tensor3d(image, [height, width, 3], 'int32');
  await tf.browser.toPixels(pixels, canvas);
  pixels.dispose();
}

/**
 * Draws a label map `[H, W]` (int) in the palette's colours (`palette`:
 * `[256, 3]` int32, e.g. from `VOC_PALETTE`; label 255 is void).
 */
export async function drawLabels(canvas: HTMLCanvasElement, labels: tf.Tensor2D, palette: tf.Tensor2D): Promise<void> {
  const [height, width] = labels.shape;
  const colours = tf.tidy(() => tf.reshape<tf.Rank.R3>(tf.gather(palette, tf.cast(tf.reshape(labels, [-1]), 'int32')), [height, width, 3]));
  await tf.browser.toPixels(colours, canvas);
  colours.dispose();
}

/** Draws the argmax of class probabilities `[1, H, W, K]`. */
export async function drawArgmax(canvas: HTMLCanvasElement, probabilities: tf.Tensor4D, palette: tf.Tensor2D): Promise<void> {
  const labels = tf.tidy(() => tf.squeeze(tf.argMax(probabilities, -1), [0]) as tf.Tensor2D);
  await drawLabels(canvas, labels, palette);
  labels.dispose();
}
