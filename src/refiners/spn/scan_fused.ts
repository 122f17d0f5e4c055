/**
 * SPN's propagation by the WebAssembly SIMD kernels of
 * `scan_kernels_wasm.ts`: gate normalisation, border masks, `1 − Σĝ` and the
 * scan of every direction in one kernel call per direction and batch entry,
 * with the adjoint scan as custom gradient. Same semantics as the tfjs-ops
 * path (`prepareGates` + `scanDirections`), which stays as the reference and
 * the fallback where the kernels cannot compile.
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs';
import { tensorKernelHost, type TensorKernelHost } from '../../core/wasm/tensor_kernel_host.js';
import type { SpnDirection, SpnNormalize } from './directions.js';
import { stepStart, stepsAndRows, type ScanShape } from './frames.js';
import { assembleSpnScanKernels, type SpnScanKernelExports } from './scan_kernels_wasm.js';
import type { ScanTaps } from './scan.js';

/** The kernels for a mode and normalisation on the active backend, or null. */
function kernels(taps: ScanTaps, normalize: SpnNormalize, channels: number): TensorKernelHost<SpnScanKernelExports> | null {
  return tensorKernelHost<SpnScanKernelExports>(`spn-scan/${taps}/${normalize}/${channels}`, () => assembleSpnScanKernels(taps, normalize, channels));
}

/**
 * Whether {@link propagateFused} can run `C` channels here: WebAssembly SIMD
 * compiles, and C ≥ 4 (the kernels' last vector overlaps the one before).
 */
export function scanFusedAvailable(channels: number, taps: ScanTaps, normalize: SpnNormalize): boolean {
  return channels >= 4 && kernels(taps, normalize, channels) !== null;
}

/** Byte addressing of one direction and batch entry: where step 0, row 0 is, and the strides. */
interface DirectionWalk {
  readonly steps: number;
  readonly rows: number;
  /** Pixel index (in the batch entry) of step 0, row 0. */
  readonly first: number;
  /** Pixel stride of a step and of a row. */
  readonly stepPixels: number;
  readonly rowPixels: number;
}

/** A direction's walk over an image, from the geometry the tfjs-ops path uses (`frames.ts`). */
function directionWalk(direction: SpnDirection, shape: ScanShape): DirectionWalk {
  const [steps, rows] = stepsAndRows(direction, shape);
  const start = stepStart(direction, 0, shape);
  return { steps, rows, first: start.first, stepPixels: stepStart(direction, 1, shape).first - start.first, rowPixels: start.stride };
}

/** The three tensors' (x, gates, states) addressing for direction d, batch entry b: `[start, step, row]` bytes each. */
function addressing(walk: DirectionWalk, d: number, b: number, shape: readonly [number, number, number, number, number], taps: ScanTaps, bases: readonly [number, number, number]): number[] {
  const [directions, batch, height, width, channels] = shape;
  const pixels = height * width;
  const block = [channels, directions * taps * channels, channels];
  const firstPixel = [b * pixels + walk.first, b * pixels + walk.first, (d * batch + b) * pixels + walk.first];
  const within = [0, d * taps * channels, 0];
  return [0, 1, 2].flatMap((i) => [bases[i]! + 4 * (firstPixel[i]! * block[i]! + within[i]!), 4 * walk.stepPixels * block[i]!, 4 * walk.rowPixels * block[i]!]);
}

/**
 * Every direction of `directions` propagated from `x` with the raw `gates`
 * (normalised and border-masked inside the kernel) and merged by an
 * element-wise maximum over the directions (ties to the first, as chained
 * `tf.maximum`s do); differentiable in both. Check {@link scanFusedAvailable} first.
 * @param x - `[B, H, W, C]`, C ≥ 4
 * @param gates - `[B, H, W, D·taps·C]`, per direction the tap blocks g1, g2, g3 (or g)
 * @returns `[B, H, W, C]`
 */
export function propagateFused(x: tf.Tensor4D, gates: tf.Tensor4D, directions: readonly SpnDirection[], taps: ScanTaps, normalize: SpnNormalize): tf.Tensor4D {
  const host = kernels(taps, normalize, x.shape[3]);
  if (host === null) throw new Error('spn: the WebAssembly kernels are not available here');
  const [batch, height, width, channels] = x.shape;
  const count = directions.length;
  const shape = [count, batch, height, width, channels] as const;
  const plane = x.size;
  const scanShape: ScanShape = { batch, height, width, directions: count, channels };
  const each = (fn: (walk: DirectionWalk, d: number, b: number) => void): void => {
    directions.forEach((direction, d) => {
      const walk = directionWalk(direction, scanShape);
      for (let b = 0; b < batch; b++) fn(walk, d, b);
    });
  };
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, gIn, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    const [states, merged, winner] = host.run([xIn, gIn], [{ shape: [...shape] }, { shape: x.shape }, { shape: x.shape }], 0, ({ inputs, outputs }) => {
      each((walk, d, b) => {
        const a = addressing(walk, d, b, shape, taps, [inputs[0]!, inputs[1]!, outputs[0]!]);
        host.exports.forward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, walk.steps, walk.rows);
      });
      host.exports.merge(outputs[0]!, outputs[1]!, outputs[2]!, count, plane);
    });
    save([xIn, gIn, states!, winner!]);
    return {
      value: merged as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const scratch = 2 * taps * Math.max(height, width) * channels + 4;
        const outputs = [{ shape: x.shape }, { shape: gates.shape }];
        const [dx, dg] = host.run([saved[0]!, saved[1]!, saved[2]!, saved[3]!, dy], outputs, scratch, ({ inputs, outputs, scratch: w }) => {
          const [xBase, gBase, states, winnerBase, dyMerged] = inputs as [number, number, number, number, number];
          each((walk, d, b) => {
            const a = addressing(walk, d, b, shape, taps, [xBase, gBase, states]);
            // dy and the winner map have x's layout, ∂x x's and ∂g the gates'.
            const fromX = a[0]! - xBase;
            host.exports.backward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, walk.steps, walk.rows, dyMerged + fromX, outputs[0]! + fromX, outputs[1]! + (a[3]! - gBase), w, winnerBase + fromX, d);
          });
        });
        return [dx!, dg!];
      },
    };
  });
  return op(x, gates) as tf.Tensor4D;
}
