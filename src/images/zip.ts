import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';

/**
 * A streaming writer of STORED (uncompressed) zip files, for exports of pictures that are already
 * compressed. It exists because jszip, whose output is the same, computes CRC-32 in JavaScript:
 * about 300 MB/s on one core, which capped exports at 100-200 MB/s (see bench/export.ts); here
 * CRC-32 is zlib's native `crc32` (Node 20.15+), several GB/s, so an export runs at disk speed.
 *
 * Layout (PKWARE APPNOTE 6.3.x): per entry a local header with general-purpose flag 3 set (sizes and
 * CRC follow the data in a data descriptor, so each file is read once, as a stream), the data, the
 * descriptor; then the central directory and the end record. No ZIP64: a zip is at most
 * {@link ZIP32_MAX_BYTES} and {@link ZIP32_MAX_ENTRIES} entries. Names must be ASCII.
 */

/** Largest zip without ZIP64, bytes: sizes and offsets are 32-bit. */
export const ZIP32_MAX_BYTES = 0xffff_ffff;
/** Most entries a zip without ZIP64 can count. */
export const ZIP32_MAX_ENTRIES = 0xffff;

const LOCAL_HEADER = 30;
const DATA_DESCRIPTOR = 16;
const CENTRAL_HEADER = 46;
const END_OF_CENTRAL_DIRECTORY = 22;
/** Version 2.0, needed for data descriptors; "made by" MS-DOS, so extractors apply their default permissions. */
const VERSION = 20;
const FLAG_DATA_DESCRIPTOR = 0x0008;

/** One file of a zip. */
export interface ZipEntry {
  /** ASCII path inside the zip. */
  readonly name: string;
  /** Modification time recorded for the file (DOS time, UTC, 2 s resolution). */
  readonly date: Date;
  /** The file's bytes; called when the writer reaches the entry, so sources open one at a time. */
  data(): AsyncIterable<Buffer>;
}

/** Bytes the writer adds around an entry's data. */
export function zipEntryOverhead(name: string): number {
  return LOCAL_HEADER + DATA_DESCRIPTOR + CENTRAL_HEADER + 2 * name.length;
}

/** Bytes of the end record, the only part of a zip that belongs to no entry. */
export const ZIP_END_BYTES = END_OF_CENTRAL_DIRECTORY;

/**
 * The zip of `entries`, in order, as a byte stream. Its size is
 * `ZIP_END_BYTES + Σ (zipEntryOverhead(name) + data bytes)`.
 * @throws Error (through the stream) for a non-ASCII name, more than {@link ZIP32_MAX_ENTRIES}
 *   entries or a zip over {@link ZIP32_MAX_BYTES}.
 */
export function storedZip(entries: readonly ZipEntry[]): Readable {
  return Readable.from(zipChunks(entries), { objectMode: true, highWaterMark: 2 });
}

async function* zipChunks(entries: readonly ZipEntry[]): AsyncGenerator<Buffer> {
  if (entries.length > ZIP32_MAX_ENTRIES) throw new Error(`a zip without ZIP64 holds at most ${ZIP32_MAX_ENTRIES} entries`);
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    if (!/^[\x20-\x7e]+$/.test(entry.name)) throw new Error(`zip entry names must be printable ASCII: ${JSON.stringify(entry.name)}`);
    const name = Buffer.from(entry.name, 'ascii');
    const { time, date } = dosDateTime(entry.date);
    const local = Buffer.alloc(LOCAL_HEADER);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION, 4);
    local.writeUInt16LE(FLAG_DATA_DESCRIPTOR, 6);
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    // CRC-32 and sizes (14-25) stay zero: they follow in the data descriptor.
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    yield local;
    yield name;

    let crc = 0;
    let size = 0;
    for await (const chunk of entry.data()) {
      crc = crc32(chunk, crc);
      size += chunk.byteLength;
      yield chunk;
    }
    if (offset + LOCAL_HEADER + name.length + size + DATA_DESCRIPTOR > ZIP32_MAX_BYTES) throw new Error('a zip without ZIP64 is at most 4 GiB');
    const descriptor = Buffer.alloc(DATA_DESCRIPTOR);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(crc, 4);
    descriptor.writeUInt32LE(size, 8);
    descriptor.writeUInt32LE(size, 12);
    yield descriptor;

    const header = Buffer.alloc(CENTRAL_HEADER + name.length);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(VERSION, 4); // made by
    header.writeUInt16LE(VERSION, 6); // needed
    header.writeUInt16LE(FLAG_DATA_DESCRIPTOR, 8);
    header.writeUInt16LE(0, 10);
    header.writeUInt16LE(time, 12);
    header.writeUInt16LE(date, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(size, 20);
    header.writeUInt32LE(size, 24);
    header.writeUInt16LE(name.length, 28);
    // Extra field, comment, disk number, attributes (30-41) stay zero.
    header.writeUInt32LE(offset, 42);
    name.copy(header, CENTRAL_HEADER);
    central.push(header);
    offset += LOCAL_HEADER + name.length + size + DATA_DESCRIPTOR;
  }
  const centralBytes = central.reduce((sum, h) => sum + h.byteLength, 0);
  if (offset + centralBytes + END_OF_CENTRAL_DIRECTORY > ZIP32_MAX_BYTES) throw new Error('a zip without ZIP64 is at most 4 GiB');
  yield* central;
  const end = Buffer.alloc(END_OF_CENTRAL_DIRECTORY);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralBytes, 12);
  end.writeUInt32LE(offset, 16);
  yield end;
}

/** MS-DOS date and time fields (UTC; years before 1980 are recorded as 1980). */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.max(1980, d.getUTCFullYear());
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}
