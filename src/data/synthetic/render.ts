/**
 * Renders one synthetic scene into typed arrays: a textured background
 * (sometimes split in two regions), textured objects of random classes drawn
 * back to front (later ones occlude earlier ones), an optional thin
 * background-class occluder across the scene, lighting, noise, and finally a
 * VOC-like void band along every label boundary.
 * @module
 */
import { IGNORE_LABEL } from '../palette.js';
import type { SeededRandom } from '../random.js';
import { SHAPE_FAMILIES, type ShapeFamily } from './shapes.js';
import { drawColour, drawPartnerColour, drawTexture, type Rgb, type Texture } from './textures.js';

/** Everything {@link renderScene} needs besides the random stream. */
export interface SceneConfig {
  /** Image height. */
  height: number;
  /** Image width. */
  width: number;
  /** Classes including background (2..8). */
  numClasses: number;
  /** Objects per scene, inclusive range. */
  objectsPerScene: [number, number];
  /** Half-width of the void band (0 = none). */
  voidRadius: number;
  /** Standard deviation of the pixel noise (0..255 units). */
  noise: number;
  /** Probability that an object's colour is near its class hue. */
  colourBias: number;
  /** Probability of a thin background occluder in a scene. */
  occluderProbability: number;
  /** Scale of the background's and occluders' colour saturation (1 = as vivid as objects, 0 = grey). */
  backgroundSaturation: number;
}

/** Subpixel offsets for 2×2 supersampled edge coverage. */
const SUBPIXELS: ReadonlyArray<readonly [number, number]> = [
  [-0.25, -0.25],
  [0.25, -0.25],
  [-0.25, 0.25],
  [0.25, 0.25],
];

/**
 * Renders a scene. Consumes `rng` deterministically: the same stream state
 * gives the same bytes.
 * @param rng - random stream of this scene
 * @param config - sizes and appearance
 */
export function renderScene(rng: SeededRandom, config: SceneConfig): { image: Uint8Array; label: Uint8Array } {
  const { height, width } = config;
  const rgb = new Float32Array(height * width * 3);
  const label = new Uint8Array(height * width);
  const colour: Rgb = [0, 0, 0];

  drawBackground(rng, config, rgb, colour);

  const [minObjects, maxObjects] = config.objectsPerScene;
  const count = minObjects + rng.int(maxObjects - minObjects + 1);
  const placed: Array<{ x: number; y: number; radius: number }> = [];
  const shortSide = Math.min(height, width);
  for (let n = 0; n < count; n++) {
    const cls = 1 + rng.int(config.numClasses - 1);
    const radius = rng.uniform(0.16, 0.36) * shortSide;
    let cx = rng.uniform(0.1, 0.9) * width;
    let cy = rng.uniform(0.1, 0.9) * height;
    const near = placed.length > 0 && rng.chance(0.5) ? rng.pick(placed) : undefined;
    if (near !== undefined) {
      // Place next to an earlier object so that one occludes the other.
      const angle = rng.uniform(0, 2 * Math.PI);
      const distance = rng.uniform(0.5, 1.1) * (radius + near.radius);
      cx = Math.min(Math.max(near.x + distance * Math.cos(angle), 0.05 * width), 0.95 * width);
      cy = Math.min(Math.max(near.y + distance * Math.sin(angle), 0.05 * height), 0.95 * height);
    }
    placed.push({ x: cx, y: cy, radius });
    const hue = ((cls - 1) * 360) / (config.numClasses - 1);
    const first = drawColour(rng, hue, config.colourBias);
    const texture = drawTexture(rng, height, width, first, drawPartnerColour(rng, first));
    const family = SHAPE_FAMILIES[cls - 1] as ShapeFamily; // numClasses <= SHAPE_FAMILIES.length + 1 (schema)
    const inside = family.create(rng, rng.uniform(1.5, 3) / radius);
    drawObject(config, rgb, label, colour, cls, texture, inside, cx, cy, radius, rng.uniform(0, 2 * Math.PI), rng.uniform(0.75, 1.3));
  }

  if (rng.chance(config.occluderProbability)) drawOccluder(rng, config, rgb, label, colour, placed);

  const image = finish(rng, config, rgb);
  if (config.voidRadius > 0) markVoidBand(label, height, width, config.voidRadius);
  return { image, label };
}

/** Moves a colour towards its grey by `1 − saturation` (no random draws: the scene stream is unchanged). */
function desaturate(colour: Rgb, saturation: number): Rgb {
  const grey = (colour[0] + colour[1] + colour[2]) / 3;
  return [grey + (colour[0] - grey) * saturation, grey + (colour[1] - grey) * saturation, grey + (colour[2] - grey) * saturation];
}

/** A background-class texture: any hue, saturation scaled by `config.backgroundSaturation`. */
function backgroundTexture(rng: SeededRandom, config: SceneConfig): Texture {
  const first = drawColour(rng, undefined, 0);
  const second = drawPartnerColour(rng, first);
  const s = config.backgroundSaturation;
  return drawTexture(rng, config.height, config.width, desaturate(first, s), desaturate(second, s));
}

function drawBackground(rng: SeededRandom, config: SceneConfig, rgb: Float32Array, colour: Rgb): void {
  const { height, width } = config;
  const main = backgroundTexture(rng, config);
  let other: Texture | undefined;
  let line = { x: 0, y: 0, nx: 0, ny: 0 };
  if (rng.chance(0.5)) {
    // A second background region (wall/floor) whose edge is not an object boundary.
    other = backgroundTexture(rng, config);
    const angle = rng.uniform(0, 2 * Math.PI);
    line = { x: rng.uniform(0.2, 0.8) * width, y: rng.uniform(0.2, 0.8) * height, nx: Math.cos(angle), ny: Math.sin(angle) };
  }
  const second: Rgb = [0, 0, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = 3 * (y * width + x);
      main(x, y, colour);
      let alpha = 0;
      if (other !== undefined) {
        const distance = (x + 0.5 - line.x) * line.nx + (y + 0.5 - line.y) * line.ny;
        alpha = Math.min(Math.max(0.5 + distance, 0), 1);
        if (alpha > 0) other(x, y, second);
      }
      rgb[at] = colour[0] * (1 - alpha) + second[0] * alpha;
      rgb[at + 1] = colour[1] * (1 - alpha) + second[1] * alpha;
      rgb[at + 2] = colour[2] * (1 - alpha) + second[2] * alpha;
    }
  }
}

function drawObject(
  config: SceneConfig,
  rgb: Float32Array,
  label: Uint8Array,
  colour: Rgb,
  cls: number,
  texture: Texture,
  inside: (u: number, v: number) => boolean,
  cx: number,
  cy: number,
  radius: number,
  angle: number,
  aspect: number,
): void {
  const { height, width } = config;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const extent = 1.25 * radius * Math.max(1, aspect);
  const x0 = Math.max(0, Math.floor(cx - extent));
  const x1 = Math.min(width - 1, Math.ceil(cx + extent));
  const y0 = Math.max(0, Math.floor(cy - extent));
  const y1 = Math.min(height - 1, Math.ceil(cy + extent));
  const invU = 1 / radius;
  const invV = 1 / (radius * aspect);
  const test = (px: number, py: number): boolean => {
    const dx = px - cx;
    const dy = py - cy;
    return inside((cos * dx + sin * dy) * invU, (-sin * dx + cos * dy) * invV);
  };
  // Pass 1: the label is the inside test at the pixel centre.
  const boxWidth = x1 - x0 + 1;
  const boxHeight = y1 - y0 + 1;
  const centres = new Uint8Array(boxWidth * boxHeight);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) if (test(x + 0.5, y + 0.5)) centres[(y - y0) * boxWidth + (x - x0)] = 1;
  }
  // Pass 2: blend; only pixels next to a centre change get the 2×2 supersampled coverage.
  for (let by = 0; by < boxHeight; by++) {
    for (let bx = 0; bx < boxWidth; bx++) {
      const at = by * boxWidth + bx;
      const centre = centres[at] as number;
      const edge =
        (bx > 0 && centres[at - 1] !== centre) ||
        (bx < boxWidth - 1 && centres[at + 1] !== centre) ||
        (by > 0 && centres[at - boxWidth] !== centre) ||
        (by < boxHeight - 1 && centres[at + boxWidth] !== centre);
      if (!edge && centre === 0) continue;
      const x = x0 + bx;
      const y = y0 + by;
      let alpha = 1;
      if (edge) {
        let covered = centre;
        for (const [ox, oy] of SUBPIXELS) if (test(x + 0.5 + ox, y + 0.5 + oy)) covered++;
        alpha = covered / 5;
        if (alpha === 0) continue;
      }
      if (centre === 1) label[y * width + x] = cls;
      texture(x, y, colour);
      const pixel = 3 * (y * width + x);
      rgb[pixel] = (rgb[pixel] as number) * (1 - alpha) + colour[0] * alpha;
      rgb[pixel + 1] = (rgb[pixel + 1] as number) * (1 - alpha) + colour[1] * alpha;
      rgb[pixel + 2] = (rgb[pixel + 2] as number) * (1 - alpha) + colour[2] * alpha;
    }
  }
}

function drawOccluder(
  rng: SeededRandom,
  config: SceneConfig,
  rgb: Float32Array,
  label: Uint8Array,
  colour: Rgb,
  placed: ReadonlyArray<{ x: number; y: number }>,
): void {
  // A thin background-class bar (a pole, a branch) passing in front of an object.
  const { height, width } = config;
  const through = rng.pick(placed);
  const angle = rng.uniform(0, Math.PI);
  const nx = -Math.sin(angle);
  const ny = Math.cos(angle);
  const halfWidth = rng.uniform(1.5, 3.5);
  const texture = backgroundTexture(rng, config);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const distance = Math.abs((x + 0.5 - through.x) * nx + (y + 0.5 - through.y) * ny);
      const alpha = Math.min(Math.max(halfWidth + 0.5 - distance, 0), 1);
      if (alpha === 0) continue;
      if (distance <= halfWidth) label[y * width + x] = 0;
      texture(x, y, colour);
      const at = 3 * (y * width + x);
      rgb[at] = (rgb[at] as number) * (1 - alpha) + colour[0] * alpha;
      rgb[at + 1] = (rgb[at + 1] as number) * (1 - alpha) + colour[1] * alpha;
      rgb[at + 2] = (rgb[at + 2] as number) * (1 - alpha) + colour[2] * alpha;
    }
  }
}

/** 1 / standard deviation of a sum of two U(0, 1) (triangular distribution). */
const TRIANGULAR_SCALE = Math.sqrt(6);

/** Lighting gradient and zero-mean noise, then rounding to bytes. */
function finish(rng: SeededRandom, config: SceneConfig, rgb: Float32Array): Uint8Array {
  const { height, width } = config;
  const gain = rng.uniform(-0.3, 0.3);
  const lightAngle = rng.uniform(0, 2 * Math.PI);
  const lx = Math.cos(lightAngle);
  const ly = Math.sin(lightAngle);
  // A clamped view rounds and clips on store; the bytes are returned as a plain Uint8Array.
  const image = new Uint8Array(height * width * 3);
  const clamped = new Uint8ClampedArray(image.buffer);
  const noiseScale = (config.noise * TRIANGULAR_SCALE) / 65536;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const light = 1 + gain * ((x / width - 0.5) * lx + (y / height - 0.5) * ly);
      const at = 3 * (y * width + x);
      for (let ch = 0; ch < 3; ch++) {
        // Triangular noise from the two 16-bit halves of one draw: cheap, zero mean, std = config.noise.
        const r = rng.nextUint32();
        const noise = ((r & 0xffff) + (r >>> 16) - 65535) * noiseScale;
        clamped[at + ch] = (rgb[at + ch] as number) * light + noise;
      }
    }
  }
  return image;
}

/**
 * Marks as void (255) every pixel whose `(2r+1)²` window holds more than one
 * label: a band `2r` pixels wide along every boundary between labels, as VOC
 * draws around object outlines.
 * @param label - label map, modified in place
 * @param height - map height
 * @param width - map width
 * @param radius - band half-width r (pixels)
 */
export function markVoidBand(label: Uint8Array, height: number, width: number, radius: number): void {
  // Separable min/max filters: a window holds two labels iff its min differs from its max.
  const rowMin = new Uint8Array(height * width);
  const rowMax = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let lo = 255;
      let hi = 0;
      for (let k = Math.max(0, x - radius); k <= Math.min(width - 1, x + radius); k++) {
        const value = label[y * width + k] as number;
        if (value < lo) lo = value;
        if (value > hi) hi = value;
      }
      rowMin[y * width + x] = lo;
      rowMax[y * width + x] = hi;
    }
  }
  const isVoid = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let lo = 255;
      let hi = 0;
      for (let k = Math.max(0, y - radius); k <= Math.min(height - 1, y + radius); k++) {
        const at = k * width + x;
        if ((rowMin[at] as number) < lo) lo = rowMin[at] as number;
        if ((rowMax[at] as number) > hi) hi = rowMax[at] as number;
      }
      if (lo !== hi) isVoid[y * width + x] = 1;
    }
  }
  for (let i = 0; i < label.length; i++) if (isVoid[i] === 1) label[i] = IGNORE_LABEL;
}
