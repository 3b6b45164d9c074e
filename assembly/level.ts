// Level names to the six normalized levels (docs/records.md, "Levels").

export const LEVEL_NONE = 0;
const NAMES: usize = memory.data<u8>([
  // 0 none, then trace debug info warn error fatal, 8 bytes each (padded)
  0, 0, 0, 0, 0, 0, 0, 0,
  116, 114, 97, 99, 101, 0, 0, 0,
  100, 101, 98, 117, 103, 0, 0, 0,
  105, 110, 102, 111, 0, 0, 0, 0,
  119, 97, 114, 110, 0, 0, 0, 0,
  101, 114, 114, 111, 114, 0, 0, 0,
  102, 97, 116, 97, 108, 0, 0, 0,
]);
const NAME_LEN: usize = memory.data<u8>([0, 5, 5, 4, 4, 5, 5]);

export function levelName(id: i32): usize {
  return NAMES + (<usize>id << 3);
}
export function levelNameLen(id: i32): usize {
  return <usize>load<u8>(NAME_LEN + <usize>id);
}

/** Up to 8 bytes lower-cased and packed little-endian; 0 if a byte is not a letter. */
function pack(p: usize, n: usize): u64 {
  let v: u64 = 0;
  for (let i: usize = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i) | 0x20;
    if (c < 0x61 || c > 0x7a) return 0;
    v |= <u64>c << (<u64>i << 3);
  }
  return v;
}

/** Level id (1..6) of the spelling [p, p+n), or 0. */
export function normalizeLevel(p: usize, n: usize): i32 {
  if (n < 3 || n > 13) return 0;
  if (n <= 8) {
    const v = pack(p, n);
    switch (v) {
      case 0x6563617274: case 0x637274: case 0x7473656e6966: case 0x65736f62726576: return 1;
      case 0x6775626564: case 0x676264: case 0x656e6966: case 0x72656e6966: return 2;
      case 0x6f666e69: case 0x666e69: case 0x656369746f6e: case 0x6769666e6f63: return 3;
      case 0x6e726177: case 0x676e696e726177: case 0x6e7277: return 4;
      case 0x726f727265: case 0x727265: case 0x657265766573: case 0x726f7265: return 5;
      case 0x6c61746166: case 0x6c7466: case 0x74697263: case 0x6c61636974697263:
      case 0x7472656c61: case 0x6772656d65: case 0x63696e6170: return 6;
    }
    return 0;
  }
  const a = pack(p, 8);
  if (!a) return 0;
  const b = pack(p + 8, n - 8);
  if (a == 0x74616d726f666e69 && (b == 0x6e6f69 || b == 0x6c616e6f69)) return 3; // information(al)
  if (a == 0x636e656772656d65 && b == 0x79) return 6; // emergency
  return 0;
}
