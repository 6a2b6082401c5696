import { InvalidImageError } from './errors.ts';
import { crc32 } from 'node:zlib';

/** The 8-byte PNG signature (PNG specification, 3rd edition, §5.2). */
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Whether `bytes` start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.byteLength >= SIGNATURE.length && SIGNATURE.equals(bytes.subarray(0, SIGNATURE.length));
}

/**
 * Proves a PNG is whole without decoding its pixels: walks its chunks (length, type, data, CRC-32;
 * PNG specification §5.3) checking each CRC with `zlib.crc32`, that IHDR comes first, that there is
 * IDAT, and that IEND comes (what follows it is ignored, as decoders do). This catches a truncated or corrupted transfer in about 0.5 ms
 * for a 2 MB picture, where decoding it takes 20-70 ms of the thread pool and a full pixel buffer.
 * It does not inflate IDAT, so a PNG written wrong (valid chunks around a broken zlib stream) passes.
 * @returns The IHDR width and height, pixels.
 * @throws InvalidImageError naming what is wrong.
 */
export function checkPngChunks(bytes: Uint8Array): { width: number; height: number } {
  if (!isPng(bytes)) throw new InvalidImageError('it is not a PNG');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = SIGNATURE.length;
  let size: { width: number; height: number } | undefined;
  let sawData = false;
  while (offset + 12 <= bytes.byteLength) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const end = offset + 12 + length;
    if (end > bytes.byteLength) throw new InvalidImageError(`the PNG is cut short inside its ${type} chunk`);
    const body = bytes.subarray(offset + 4, offset + 8 + length);
    if (crc32(body) !== view.getUint32(offset + 8 + length)) throw new InvalidImageError(`the PNG's ${type} chunk is corrupted`);
    if (!size) {
      if (type !== 'IHDR' || length < 8) throw new InvalidImageError('the PNG does not start with its header');
      size = { width: view.getUint32(offset + 8), height: view.getUint32(offset + 12) };
      if (size.width === 0 || size.height === 0) throw new InvalidImageError('it has no dimensions');
    } else if (type === 'IDAT') {
      sawData = true;
    } else if (type === 'IEND') {
      if (!sawData) throw new InvalidImageError('the PNG has no image data');
      return size;
    }
    offset = end;
  }
  throw new InvalidImageError('the PNG is cut short');
}
