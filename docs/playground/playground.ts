/**
 * The playground page: segrefine's portable core in the browser. It starts a
 * backend (webgl, else wasm, else cpu), refines a built-in synthetic scene or
 * an uploaded image with DifNet, the dense CRF and SPN, draws every map, and
 * exposes the numbers on `window.segrefinePlayground` for the browser test.
 */
import * as tf from '@tensorflow/tfjs';
import * as core from '../../src/index.ts';
import { DEFAULT_REFINERS, disposeRun, refineAll, summarise, syntheticInput, type PlaygroundInput, type PlaygroundRun, type RefinerResult, type RefinerSettings, type SceneSettings } from './pipeline.ts';
import { addFigure, drawArgmax, drawImage, drawLabels } from './render.ts';
import { uploadInput, type UploadSettings } from './upload.ts';

/** The built-in scenes: seeded, so every visitor (and the test) sees the same pixels. */
const SCENES: readonly SceneSettings[] = [
  scene(1, [96, 96], 4),
  scene(10, [96, 96], 4),
  scene(9, [96, 96], 4),
  scene(7, [128, 128], 6),
];

/** Scene 0 of the `val` split of the dataset with this seed, size and class count; coarse scores with noise 0.3. */
function scene(seed: number, size: [number, number], numClasses: number): SceneSettings {
  return {
    name: `seed ${seed}: ${size[1]}×${size[0]}, ${numClasses} classes`,
    dataset: { seed, size, numClasses, numTrain: 0, numVal: 1 },
    index: 0,
    coarse: { stride: 8, noise: 0.3, seed },
  };
}

/** DifNet's two initialisations (docs/refiners/difnet.md): segrefine's near-identity start, or the paper's μ = β = ½. */
const DIFNET_INITS: Record<string, Partial<RefinerSettings['difnet']>> = {
  segrefine: {},
  reference: { initialAlpha: 0, initialImportance: 0 },
};

/** Where the input of a run came from, with everything needed to recompute it. */
type InputSource = { kind: 'synthetic'; scene: SceneSettings } | { kind: 'upload'; file: string; upload: UploadSettings };

/** A refiner's numbers as plain arrays, and its time. */
type Summary = Awaited<ReturnType<typeof summarise>> & { ms?: number };

/** What the page exposes on `window.segrefinePlayground`. */
interface PlaygroundState {
  /** Settles once the default scene is refined (rejects if that failed). */
  ready: Promise<void>;
  /** The active tfjs backend: `webgl`, `wasm` or `cpu`. */
  backend: string;
  /** `describeBackend()`: the backend, its package and the backends skipped. */
  backendDescription: string;
  /** Completed runs. */
  runs: number;
  /** The last run's input: its source and settings, size and class count. */
  input: (InputSource & { refiners: RefinerSettings; height: number; width: number; classes: number }) | null;
  /** The last run's outputs at the image's size (row-major, class fastest). */
  results: { coarse: Summary; difnet: Summary; denseCrf: Summary; spn: Summary } | null;
}

declare global {
  interface Window {
    segrefinePlayground: PlaygroundState;
  }
}

const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`playground: #${id} is missing from index.html`);
  return found as T;
};

const controls = {
  scene: element<HTMLSelectElement>('scene'),
  upload: element<HTMLInputElement>('upload'),
  classes: element<HTMLInputElement>('classes'),
  difnetInit: element<HTMLSelectElement>('difnet-init'),
  rerun: element<HTMLButtonElement>('rerun'),
  status: element<HTMLElement>('status'),
  backend: element<HTMLElement>('backend'),
  inputs: element<HTMLElement>('inputs'),
  refined: element<HTMLElement>('refined'),
  steps: element<HTMLElement>('steps'),
};

// Published before the backend starts, so the test can wait on `ready` from the first moment.
const state: PlaygroundState = { ready: Promise.resolve(), backend: 'starting', backendDescription: '', runs: 0, input: null, results: null };
window.segrefinePlayground = state;
let previous: { input: PlaygroundInput; run: PlaygroundRun } | null = null;

/** Percent mIoU against the truth of a synthetic scene (void ignored). */
function meanIou(probabilities: tf.Tensor4D, input: PlaygroundInput): string {
  if (input.truth === null) return '';
  const matrix = new core.ConfusionMatrix(input.classes).update(probabilities, input.truth, [input.height, input.width]);
  return `, mIoU ${(100 * matrix.meanIou()).toFixed(1)}%`;
}

/** Draws a run: the input row, the three refiners with their times, and DifNet's steps. */
async function draw(input: PlaygroundInput, run: PlaygroundRun): Promise<void> {
  // Made here, not at load: a tensor made before initBackend would start tfjs's default backend.
  const palette = tf.tensor2d(core.VOC_PALETTE, [256, 3], 'int32');
  controls.inputs.replaceChildren();
  controls.refined.replaceChildren();
  controls.steps.replaceChildren();
  await drawImage(addFigure(controls.inputs, `image ${input.width}×${input.height}`), input.image, input.height, input.width);
  if (input.truth !== null) {
    const truth = tf.tensor2d(input.truth, [input.height, input.width], 'int32');
    await drawLabels(addFigure(controls.inputs, 'ground truth (void: beige)'), truth, palette);
    truth.dispose();
  }
  const [h, w] = input.scores.shape.slice(1, 3);
  await drawArgmax(addFigure(controls.inputs, `coarse scores ${w}×${h}, upsampled${meanIou(run.coarse, input)}`), run.coarse, palette);
  const refiners: [string, RefinerResult][] = [['DifNet (DiffusionHead)', run.difnet], ['dense CRF (denseCrf)', run.denseCrf], ['SPN (SpnRefiner)', run.spn]];
  for (const [name, result] of refiners) {
    await drawArgmax(addFigure(controls.refined, `${name}: ${result.ms.toFixed(0)} ms${meanIou(result.probabilities, input)}`), result.probabilities, palette);
  }
  for (const [t, step] of run.difnet.steps.entries()) {
    const caption = t === 0 ? 'seed s = M ⊙ x' : `walk ${t} (μ ${run.difnet.mu[t - 1]!.toFixed(2)})`;
    await drawLabels(addFigure(controls.steps, caption, true), step, palette);
  }
  palette.dispose();
}

/** Refines one input, draws it and publishes its numbers; the previous run's tensors are released. */
async function show(source: InputSource, makeInput: () => Promise<PlaygroundInput>): Promise<void> {
  const refiners: RefinerSettings = { ...DEFAULT_REFINERS, difnet: { ...DEFAULT_REFINERS.difnet, ...DIFNET_INITS[controls.difnetInit.value] } };
  controls.status.textContent = 'refining…';
  const input = await makeInput();
  const run = await refineAll(core, input, refiners);
  await draw(input, run);
  if (previous !== null) {
    previous.input.scores.dispose();
    disposeRun(previous.run);
  }
  previous = { input, run };
  state.input = { ...source, refiners, height: input.height, width: input.width, classes: input.classes };
  state.results = {
    coarse: await summarise(run.coarse),
    difnet: { ...(await summarise(run.difnet.probabilities)), ms: run.difnet.ms },
    denseCrf: { ...(await summarise(run.denseCrf.probabilities)), ms: run.denseCrf.ms },
    spn: { ...(await summarise(run.spn.probabilities)), ms: run.spn.ms },
  };
  state.runs++;
  controls.status.textContent = `done (${tf.memory().numTensors} tensors held)`;
}

/** Reports a failed run on the page and in the console (the browser test fails on console errors). */
function report(error: unknown): void {
  controls.status.textContent = `failed: ${error instanceof Error ? error.message : String(error)}`;
  console.error(error);
}

/** Runs one at a time: a change while a run is going waits for it. */
let queue: Promise<void> = Promise.resolve();
function enqueue(source: InputSource, makeInput: () => Promise<PlaygroundInput>): Promise<void> {
  const next = queue.then(() => show(source, makeInput));
  queue = next.catch(() => undefined);
  return next;
}
function runScene(): Promise<void> {
  const scene = SCENES[Number(controls.scene.value)]!;
  return enqueue({ kind: 'synthetic', scene }, async () => syntheticInput(core, scene));
}
function runUpload(file: File): Promise<void> {
  const upload: UploadSettings = { maxSide: 128, classes: Number(controls.classes.value), iterations: 10, coarse: { stride: 8, noise: 0.3, seed: 0 } };
  return enqueue({ kind: 'upload', file: file.name, upload }, () => uploadInput(core, file, upload));
}
/** Runs the last input again (with the current DifNet initialisation; a second run shows warm timings). */
function rerun(): Promise<void> {
  const file = controls.upload.files?.[0];
  return state.input?.kind === 'upload' && file !== undefined ? runUpload(file) : runScene();
}

/** Starts the backend, wires the controls and refines the first scene. */
async function start(): Promise<void> {
  // ?backend=wasm (or webgl, cpu) pins a backend; by default webgl, then wasm, then cpu.
  const asked = new URLSearchParams(location.search).get('backend') ?? 'auto';
  // The .wasm binaries are copied beside this script by scripts/build-playground.mjs.
  const info = await core.initBackend(asked as core.BackendPreference, { wasmPaths: new URL('./', import.meta.url).href });
  state.backend = info.name;
  state.backendDescription = core.describeBackend(info);
  controls.backend.textContent = core.describeBackend(info);
  SCENES.forEach((scene, i) => controls.scene.add(new Option(scene.name, String(i))));
  controls.scene.addEventListener('change', () => void runScene().catch(report));
  controls.difnetInit.addEventListener('change', () => void rerun().catch(report));
  controls.rerun.addEventListener('click', () => void rerun().catch(report));
  controls.upload.addEventListener('change', () => {
    const file = controls.upload.files?.[0];
    if (file !== undefined) void runUpload(file).catch(report);
  });
  await runScene();
}

state.ready = start();
state.ready.catch(report);
