// A hand-assembled wasm module that sums bytes of a memory: reads mapped pages
// from wasm code, as the real core does, in the native addon's tests.

/** A hand-assembled module over env.memory exporting sum(ptr, len): the i32 sum of len bytes. */
export function sumModule(): WebAssembly.Module {
  const ascii = (s: string) => [...Buffer.from(s)];
  const section = (id: number, body: number[]) => [id, body.length, ...body]; // bodies stay < 128 bytes
  const code = [
    0x01, 0x02, 0x7f, // locals 2, 3: end, acc
    0x20, 0x00, 0x20, 0x01, 0x6a, 0x21, 0x02, // end = ptr + len
    0x02, 0x40, // block
    0x20, 0x00, 0x20, 0x02, 0x4f, 0x0d, 0x00, // br_if ptr >= end
    0x03, 0x40, // loop
    0x20, 0x03, 0x20, 0x00, 0x2d, 0x00, 0x00, 0x6a, 0x21, 0x03, // acc += i32.load8_u(ptr)
    0x20, 0x00, 0x41, 0x01, 0x6a, 0x22, 0x00, // ptr += 1
    0x20, 0x02, 0x49, 0x0d, 0x00, // br_if ptr < end
    0x0b, 0x0b, // end loop, end block
    0x20, 0x03, 0x0b, // return acc
  ];
  return new WebAssembly.Module(new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f]), // (i32, i32) -> i32
    ...section(2, [0x01, 0x03, ...ascii('env'), 0x06, ...ascii('memory'), 0x02, 0x00, 0x01]),
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, 0x03, ...ascii('sum'), 0x00, 0x00]),
    ...section(10, [0x01, code.length, ...code]),
  ]));
}

export function wasmSum(memory: WebAssembly.Memory): (ptr: number, len: number) => number {
  const { sum } = new WebAssembly.Instance(sumModule(), { env: { memory } }).exports as {
    sum: (ptr: number, len: number) => number;
  };
  return (ptr, len) => sum(ptr, len) >>> 0;
}

export function byteSum(bytes: Uint8Array): number {
  let total = 0;
  for (const b of bytes) total += b;
  return total;
}
