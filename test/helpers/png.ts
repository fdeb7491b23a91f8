// PNG facts for tests of screenshots, read from the file itself.

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk (the first chunk, right after the signature). */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.length < 24 || !png.subarray(0, 8).equals(SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error(`not a PNG (starts with ${png.subarray(0, 16).toString('hex')})`);
  }
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
