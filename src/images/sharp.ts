/** The sharp module's default export (the constructor function). */
export type Sharp = typeof import('sharp').default;

let loading: Promise<Sharp> | undefined;

/**
 * sharp, loaded on first use. libvips adds about 30 MB of resident memory, which a bot that has
 * not drawn a contact sheet, preview or reference yet need not hold (BENCHMARKS.md, figure 4); a
 * plain scene never needs it (its PNG is checked by `checkPngChunks` instead).
 */
export function loadSharp(): Promise<Sharp> {
  return (loading ??= import('sharp').then((m) => m.default));
}
