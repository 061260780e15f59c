/** A computed CSS colour as 0-255 channels and an alpha of 0-1. */
export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

/**
 * Parses what getComputedStyle gives for a colour: `rgb(…)`, `rgba(…)`, or `color(srgb r g b / a)` (Chromium's
 * form for `color-mix(in srgb, …)`, channels 0-1).
 */
export function parseColour(css: string): Rgba {
  const rgb = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+))?\s*\)$/.exec(css);
  if (rgb) return { r: Number(rgb[1]), g: Number(rgb[2]), b: Number(rgb[3]), a: Number(rgb[4] ?? 1) };
  const srgb = /^color\(srgb\s+([\d.e-]+)\s+([\d.e-]+)\s+([\d.e-]+)(?:\s*\/\s*([\d.]+))?\s*\)$/.exec(css);
  if (srgb) {
    const channel = (text: string | undefined) => Math.round(Number(text) * 255);
    return { r: channel(srgb[1]), g: channel(srgb[2]), b: channel(srgb[3]), a: Number(srgb[4] ?? 1) };
  }
  throw new Error(`not a colour this test reads: ${css}`);
}

/** Red dominates (the page's error colour family): red well above both green and blue. */
export function isReddish(css: string): boolean {
  const { r, g, b } = parseColour(css);
  return r - Math.max(g, b) > 60;
}

/** Green dominates (the page's "ok"/live colour family). */
export function isGreenish(css: string): boolean {
  const { r, g, b } = parseColour(css);
  return g - Math.max(r, b) > 30;
}
