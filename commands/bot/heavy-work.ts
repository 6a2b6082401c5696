import pLimit from 'p-limit';

/**
 * How many pieces of heavy door work run at once. Each gallery page decodes up to 12 full-size PNGs
 * with sharp (whose libvips pool already spreads one decode over the cores), and each export part
 * holds a whole zip, up to the upload limit, in memory until it is uploaded.
 */
const HEAVY_WORK_CONCURRENCY = 2;

/**
 * The process-wide queue for the bot's picture-heavy work that no job runner bounds: gallery
 * pages, lightbox previews and export parts. Without it a burst of gallery clicks or a few exports
 * at once could take every core and a lot of memory from the commands that paint. Callers
 * acknowledge the interaction first: waiting here can take longer than Discord's 3 s.
 */
export const heavyWork = pLimit(HEAVY_WORK_CONCURRENCY);
