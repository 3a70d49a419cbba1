import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(16 * 256);
let poolOffset = pool.length;
let lastMs = 0;
let seq = 0;

// Random bits come from node:crypto; there is no other I/O here.

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter
 * within the millisecond, then random bits. Ids made later sort later, so inserting
 * them touches the end of an index instead of a random page: under heavy write load
 * this keeps each transaction's dirty pages (and so its WAL writes) few.
 */
export function uuidv7(now: number = Date.now()): string {
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const b = pool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  if (now > lastMs) {
    lastMs = now;
    seq = b[6]! & 0x03; // start low so a burst fits in the counter
  } else {
    seq++;
    if (seq > 0xfff) {
      // Counter exhausted within this millisecond: borrow the next one.
      lastMs++;
      seq = 0;
    }
  }
  const ms = lastMs;
  const bytes = Buffer.allocUnsafe(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | ((seq >> 8) & 0x0f);
  bytes[7] = seq & 0xff;
  bytes[8] = 0x80 | (b[8]! & 0x3f);
  for (let i = 9; i < 16; i++) bytes[i] = b[i]!;
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
