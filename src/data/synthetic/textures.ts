/**
 * Textures and colours of the synthetic scenes. A texture mixes two colours
 * by a pattern in [0, 1] (value noise, stripes, checks or dots); the same
 * texture kinds and colour distribution serve objects and backgrounds, so
 * neither texture nor colour alone tells the class.
 * @module
 */
import type { SeededRandom } from '../random.js';

/** RGB in 0..255 (floats). */
export type Rgb = [number, number, number];

/** A pattern value in [0, 1] at pixel `(x, y)`. */
export type Pattern = (x: number, y: number) => number;

/** A texture: writes the RGB (0..255, floats) at `(x, y)` into `out`. */
export type Texture = (x: number, y: number, out: Rgb) => void;

/**
 * HSV (h in [0, 360), s and v in [0, 1]) to RGB 0..255.
 * @param hue - degrees
 * @param saturation - 0..1
 * @param value - 0..1
 */
export function hsvToRgb(hue: number, saturation: number, value: number): Rgb {
  const h = (((hue % 360) + 360) % 360) / 60;
  const c = value * saturation;
  const x = c * (1 - Math.abs((h % 2) - 1));
  const m = value - c;
  const sector = Math.floor(h);
  const [r, g, b] =
    sector === 0 ? [c, x, 0] : sector === 1 ? [x, c, 0] : sector === 2 ? [0, c, x] : sector === 3 ? [0, x, c] : sector === 4 ? [x, 0, c] : [c, 0, x];
  return [(r + m) * 255, (g + m) * 255, (b + m) * 255];
}

/**
 * Draws a colour: hue near `preferredHue` (±30°) with probability `bias`,
 * otherwise uniform; saturation and value from one shared range.
 * @param rng - random stream
 * @param preferredHue - degrees, or undefined for no preference
 * @param bias - probability of using the preferred hue
 */
export function drawColour(rng: SeededRandom, preferredHue: number | undefined, bias: number): Rgb {
  const nearPreferred = preferredHue !== undefined && rng.chance(bias);
  const hue = nearPreferred ? (preferredHue as number) + rng.uniform(-30, 30) : rng.uniform(0, 360);
  return hsvToRgb(hue, rng.uniform(0.2, 0.9), rng.uniform(0.3, 0.95));
}

/** A second colour for a texture: either a darker/lighter shade of `base` or an unrelated colour. */
export function drawPartnerColour(rng: SeededRandom, base: Rgb): Rgb {
  if (rng.chance(0.6)) {
    const factor = rng.chance(0.5) ? rng.uniform(0.45, 0.8) : rng.uniform(1.2, 1.6);
    return [base[0] * factor, base[1] * factor, base[2] * factor];
  }
  return hsvToRgb(rng.uniform(0, 360), rng.uniform(0.1, 0.8), rng.uniform(0.2, 0.95));
}

function smoothstep(t: number): number {
  return t * t * (3 - 2 * t);
}

function valueNoise(rng: SeededRandom, cell: number, height: number, width: number): Pattern {
  // A lattice a little larger than the image, so shifted objects still find values.
  const rows = Math.ceil(height / cell) + 3;
  const cols = Math.ceil(width / cell) + 3;
  const lattice = new Float32Array(rows * cols);
  for (let i = 0; i < lattice.length; i++) lattice[i] = rng.next();
  return (x, y) => {
    const gx = Math.min(Math.max(x / cell + 1, 0), cols - 1.001);
    const gy = Math.min(Math.max(y / cell + 1, 0), rows - 1.001);
    const x0 = Math.floor(gx);
    const y0 = Math.floor(gy);
    const tx = smoothstep(gx - x0);
    const ty = smoothstep(gy - y0);
    const a = lattice[y0 * cols + x0] as number;
    const b = lattice[y0 * cols + x0 + 1] as number;
    const c = lattice[(y0 + 1) * cols + x0] as number;
    const d = lattice[(y0 + 1) * cols + x0 + 1] as number;
    return (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
  };
}

/**
 * Draws a random pattern over a `height × width` frame.
 * @param rng - random stream
 * @param height - frame height
 * @param width - frame width
 */
export function drawPattern(rng: SeededRandom, height: number, width: number): Pattern {
  const kind = rng.int(4);
  const angle = rng.uniform(0, Math.PI);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  if (kind === 0) {
    const coarse = valueNoise(rng, rng.uniform(6, 20), height, width);
    const fine = valueNoise(rng, rng.uniform(2, 5), height, width);
    return (x, y) => 0.65 * coarse(x, y) + 0.35 * fine(x, y);
  }
  if (kind === 1) {
    const period = rng.uniform(4, 12);
    const phase = rng.uniform(0, 2 * Math.PI);
    return (x, y) => 0.5 + 0.5 * Math.sin((2 * Math.PI * (x * cos + y * sin)) / period + phase);
  }
  if (kind === 2) {
    const cell = rng.uniform(3, 8);
    return (x, y) => {
      const a = Math.floor((x * cos + y * sin) / cell);
      const b = Math.floor((-x * sin + y * cos) / cell);
      return (a + b) & 1;
    };
  }
  const spacing = rng.uniform(5, 10);
  const radius2 = (spacing * rng.uniform(0.2, 0.35)) ** 2;
  return (x, y) => {
    const a = x * cos + y * sin;
    const b = -x * sin + y * cos;
    const da = a - spacing * Math.round(a / spacing);
    const db = b - spacing * Math.round(b / spacing);
    return da * da + db * db <= radius2 ? 1 : 0;
  };
}

/**
 * A texture mixing two colours by a random pattern.
 * @param rng - random stream
 * @param height - frame height
 * @param width - frame width
 * @param first - colour where the pattern is 0
 * @param second - colour where the pattern is 1
 */
export function drawTexture(rng: SeededRandom, height: number, width: number, first: Rgb, second: Rgb): Texture {
  const pattern = drawPattern(rng, height, width);
  return (x, y, out) => {
    const t = pattern(x, y);
    out[0] = first[0] + (second[0] - first[0]) * t;
    out[1] = first[1] + (second[1] - first[1]) * t;
    out[2] = first[2] + (second[2] - first[2]) * t;
  };
}
