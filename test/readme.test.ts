// The README's library examples run as they are written, and print what
// their comments say they print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

test('the README has library examples', () => {
  assert.ok(blocks.length >= 3);
});

blocks.forEach((code, i) => {
  test(`README example ${i + 1} runs and prints what it says`, () => {
    // Inside the package, so `import … from 'logwire'` resolves to this package (self-reference).
    const dir = join(root, 'build/readme-examples');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `example-${i + 1}.mjs`);
    writeFileSync(file, code);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    for (const m of code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)) {
      assert.ok(r.stdout.includes(m[1]), `expected output "${m[1]}" in:\n${r.stdout}`);
    }
  });
});
