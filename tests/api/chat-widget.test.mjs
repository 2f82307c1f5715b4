// The chat widget's script (plugins/chat/static/widget.js) as the server gives it to a shop's page: its size stays
// within 30 KB gzipped (printed), it is JavaScript any origin may load, revalidated by its ETag, and it builds its UI
// with text nodes only (nothing a visitor or agent types becomes HTML).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import {startServer, request} from './lib.mjs';

const BUDGET = 30 * 1024;

test('the widget is at most 30 KB gzipped, cacheable, and never inserts HTML', async () => {
  const server = await startServer();
  const res = await request(server.url + '/chat/widget.js');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /^text\/javascript/);
  assert.equal(res.headers['cross-origin-resource-policy'], 'cross-origin');
  const gz = zlib.gzipSync(res.body, {level: 9}).length;
  console.log(`chat widget: ${res.body.length} bytes, ${gz} bytes gzip (-9), budget ${BUDGET}`);
  assert.ok(gz <= BUDGET, `the widget is ${gz} bytes gzipped, over ${BUDGET}`);
  const again = await request(server.url + '/chat/widget.js', {headers: {'if-none-match': res.headers.etag}});
  assert.equal(again.status, 304);
  const js = res.text;
  assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, 'text nodes only');
  assert.match(js, /attachShadow/);
});
