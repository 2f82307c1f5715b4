// The shipped binary: one stripped file of at most 6 MB that carries CivetWeb, Lua, SQLite and mbedTLS inside it.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';

import {BIN} from './lib.mjs';

const release = !/asan/.test(BIN);

test('the release binary is at most 6 MB and links none of the embedded libraries dynamically', {skip: !release && 'an ASan build'}, () => {
  const size = fs.statSync(BIN).size;
  assert.ok(size <= 6 * 1024 * 1024, `${BIN} is ${size} bytes`);
  const ldd = spawnSync('ldd', [BIN], {encoding: 'utf8'});
  assert.equal(ldd.status, 0, ldd.stderr);
  for (const lib of ['civetweb', 'lua', 'sqlite', 'mbedtls', 'mbedcrypto', 'mbedx509', 'cjson'])
    assert.doesNotMatch(ldd.stdout, new RegExp(lib), `ldd lists ${lib}:\n${ldd.stdout}`);
  const file = spawnSync('file', ['-b', BIN], {encoding: 'utf8'});
  if (file.status === 0) assert.doesNotMatch(file.stdout, /not stripped/, 'the release binary is stripped');
});
