/**
 * How much a screenshot shows, for the "is the page blank?" checks of
 * scripts/screenshot.mjs, check-docs-site.mjs and test-playground.mjs: the
 * fraction of pixels that are not near-white (a channel below 240), and the
 * number of distinct colours at 4 bits per channel (charts, panels and
 * label maps draw many; an empty page or a lone error message few).
 */
import sharp from 'sharp';

/**
 * @param {string} png - path of the screenshot
 * @returns {Promise<{ width: number, height: number, ink: number, colours: number }>}
 */
export async function inkAndColours(png) {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let ink = 0;
  const colours = new Set();
  for (let i = 0; i < data.length; i += 3) {
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    if (r < 240 || g < 240 || b < 240) ink++;
    colours.add((r >> 4) * 256 + (g >> 4) * 16 + (b >> 4));
  }
  return { width: info.width, height: info.height, ink: ink / (info.width * info.height), colours: colours.size };
}
