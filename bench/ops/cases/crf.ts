/**
 * Dense CRF at DeepLab scale: 320×320, 21 labels, 10 iterations, pos 3/3,
 * bilateral 80/13/10 and DeepLab-v2's 67/3/4, end to end (`denseCrf`: input
 * checks, lattice builds, mean field), on the default
 * WebAssembly SIMD mean-field kernels and, for comparison, the TypeScript
 * ones (`SEGREFINE_CRF_KERNEL=js`). Medians of 5 runs after a warm-up; wall
 * and CPU time (the machine is shared: CPU time is the steadier one).
 *
 * The reference is pydensecrf's C++ (densecrf v2, g++ -O3 -march=native,
 * SSE) on the same scene. Shared machines drift by 1.5× within minutes, so a
 * fixed number makes a poor yardstick: with `DENSECRF_CPP_DRIVER` pointing
 * at a timing driver, it runs right after each denseCrf measurement and the
 * `cpu / C++` column compares the two from the same minute. The driver is
 * called as `driver W H M iterations bxy brgb bw image.u8 prob.f32 reps` and
 * prints one line per rep whose fifth field is the CPU ms of one complete
 * run (unary, lattices, inference), e.g. a 30-line main() around pydensecrf's
 * `DenseCRF2D`. Without it, the quiet-moment medians measured on the 2-core
 * VM are used (0.275 s and 0.83 s).
 *
 * Plus one ConvCrf forward pass for scale, on its default implementation (fused
 * window kernels on wasm since issue #18; `--only conv-crf` compares the two).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConvCrf, denseCrf, type DenseCrfParams } from '../../../src/index.js';
import { median, timeMedian, type BenchRow, type OpBenchCase } from '../harness.js';

/** Seeded synthetic scene like the densecrf fixture's: discs of 20 labels on a background, lighting, N(0, 10) noise. */
function scene(height: number, width: number, labels: number, seed = 7): { rgb: Uint8Array; probabilities: Float32Array } {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const discs = Array.from({ length: 12 }, (_, k) => ({ x: random() * width, y: random() * height, r: (0.08 + 0.15 * random()) * Math.min(height, width), label: 1 + (k % (labels - 1)) }));
  const palette = Array.from({ length: labels }, () => [40 + 175 * random(), 40 + 175 * random(), 40 + 175 * random()]);
  const rgb = new Uint8Array(height * width * 3);
  const probabilities = new Float32Array(height * width * labels);
  const logits = new Float64Array(labels);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      let label = 0;
      for (const d of discs) if ((x - d.x) ** 2 + (y - d.y) ** 2 < d.r ** 2) label = d.label;
      for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.max(0, Math.min(255, Math.round(palette[label]![c]! + 25 * (x / width - 0.5) + 15 * (y / height - 0.5) + 10 * gauss())));
      let sum = 0;
      for (let m = 0; m < labels; m++) sum += Math.exp((logits[m] = (m === label ? 2 : 0) + 1.1 * gauss()));
      for (let m = 0; m < labels; m++) probabilities[i * labels + m] = Math.exp(logits[m]!) / sum;
    }
  }
  return { rgb, probabilities };
}

const SIZE = 320;
const LABELS = 21;
const SETTINGS: Array<{ bilateral: [number, number, number]; referenceMs: number }> = [
  { bilateral: [80, 13, 10], referenceMs: 275 },
  { bilateral: [67, 3, 4], referenceMs: 830 },
];
const KERNELS = ['wasm', 'js'] as const;
const REPS = 5;

/** The C++ reference's median CPU ms on the scene, from the timing driver (see the module comment). */
type CppTimer = (bilateral: readonly [number, number, number]) => number;

/** A timer running the driver named by `DENSECRF_CPP_DRIVER` on the scene, or undefined without one. */
function cppTimer(rgb: Uint8Array, probabilities: Float32Array): { time: CppTimer; cleanup(): void } | undefined {
  const driver = process.env['DENSECRF_CPP_DRIVER'];
  if (driver === undefined || driver === '') return undefined;
  if (!existsSync(driver)) throw new Error(`DENSECRF_CPP_DRIVER: no such file ${driver}`);
  const dir = mkdtempSync(join(tmpdir(), 'segrefine-crf-'));
  const image = join(dir, 'image.u8');
  const probs = join(dir, 'prob.f32');
  writeFileSync(image, rgb);
  writeFileSync(probs, new Uint8Array(probabilities.buffer, probabilities.byteOffset, probabilities.byteLength));
  const time: CppTimer = (bilateral) => {
    const args = [SIZE, SIZE, LABELS, 10, ...bilateral, image, probs, REPS].map(String);
    const run = spawnSync(driver, args, { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`DENSECRF_CPP_DRIVER failed: ${run.stderr || run.error}`);
    const cpu = run.stdout.trim().split('\n').map((line) => Number(line.trim().split(/\s+/)[4]));
    if (cpu.length !== REPS || cpu.some((v) => !Number.isFinite(v))) throw new Error(`DENSECRF_CPP_DRIVER: unexpected output ${JSON.stringify(run.stdout)}`);
    return median(cpu);
  };
  return { time, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `fn` with the mean-field implementation forced through `SEGREFINE_CRF_KERNEL`. */
function withKernel<T>(kernel: (typeof KERNELS)[number], fn: () => T): T {
  const saved = process.env['SEGREFINE_CRF_KERNEL'];
  process.env['SEGREFINE_CRF_KERNEL'] = kernel;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env['SEGREFINE_CRF_KERNEL'];
    else process.env['SEGREFINE_CRF_KERNEL'] = saved;
  }
}

export const cases: OpBenchCase[] = [
  {
    group: 'crf',
    name: 'denseCrf 320×320, 21 labels, 10 iterations',
    async run() {
      const { rgb, probabilities } = scene(SIZE, SIZE, LABELS);
      const image = { data: rgb, height: SIZE, width: SIZE };
      const probs = { data: probabilities, height: SIZE, width: SIZE, labels: LABELS };
      const rows: BenchRow[] = [];
      const cpp = cppTimer(rgb, probabilities);
      try {
        for (const { bilateral, referenceMs } of SETTINGS) {
          const params: DenseCrfParams = { iterations: 10, pos: { sxy: 3, compat: 3 }, bilateral: { sxy: bilateral[0], srgb: bilateral[1], compat: bilateral[2] } };
          for (const kernel of KERNELS) {
            withKernel(kernel, () => denseCrf(image, probs, params)); // warm-up (JIT, wasm tier-up)
            const wall: number[] = [];
            const cpu: number[] = [];
            for (let rep = 0; rep < REPS; rep++) {
              const start = performance.now();
              const used = process.cpuUsage();
              withKernel(kernel, () => denseCrf(image, probs, params));
              const spent = process.cpuUsage(used);
              cpu.push((spent.user + spent.system) / 1000);
              wall.push(performance.now() - start);
            }
            const cpuMs = median(cpu);
            const cppMs = cpp?.time(bilateral) ?? referenceMs;
            rows.push({
              op: 'denseCrf',
              size: `${SIZE}×${SIZE}`,
              labels: LABELS,
              iterations: 10,
              'pos sxy/compat': '3/3',
              'bilateral sxy/srgb/compat': bilateral.join('/'),
              'mean field': kernel === 'wasm' ? 'wasm SIMD' : 'TypeScript',
              ms: median(wall),
              'cpu ms': cpuMs,
              'C++ cpu ms': cppMs,
              'C++ timed': cpp === undefined ? 'reference' : 'same run',
              'cpu / C++': cpuMs / cppMs,
            });
          }
        }
      } finally {
        cpp?.cleanup();
      }
      return rows;
    },
  },
  {
    group: 'crf',
    name: 'ConvCrf forward 160×160, 21 labels, 5 iterations, k 7',
    async run() {
      const size = 160;
      const scores = tf.randomNormal([1, size / 8, size / 8, LABELS], 0, 1, 'float32', 1) as tf.Tensor4D;
      const image = tf.randomUniform([1, size, size, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      const rows: BenchRow[] = [];
      for (const downsample of [1, 2]) {
        const layer = new ConvCrf({ iterations: 5, kernelSize: 7, downsample, outputSize: [size, size] });
        const ms = await timeMedian(() => layer.refine({ scores, image }), { warmup: 1, reps: 3 });
        rows.push({ op: 'ConvCrf', size: `${size}×${size}`, labels: LABELS, iterations: 5, 'kernel / downsample': `7 / ${downsample}`, ms, backend: tf.getBackend() });
        layer.dispose();
      }
      tf.dispose([scores, image]);
      return rows;
    },
  },
];
