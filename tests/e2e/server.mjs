// Starts and stops the real destek binary for browser tests.
//
//   const server = await startServer();      // fresh data dir, free port
//   server.url        "http://127.0.0.1:PORT"
//   server.setupUrl   "http://127.0.0.1:PORT/setup?token=..." (null once an admin exists)
//   await server.stop();                     // SIGTERM, then SIGKILL after 5 s; removes the temp data dir
//
// The binary is $DESTEK_BIN (relative to the repo root, or absolute), default build/destek.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// 1,000 PBKDF2 rounds for new password hashes (see tests/api/lib.mjs), also in every CLI a test spawns (destek demo).
process.env.DESTEK_PASSWORD_ITERATIONS ??= '1000';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function destekBin() {
  return path.resolve(repoRoot, process.env.DESTEK_BIN || 'build/destek');
}

const LISTENING = /^destek: listening on (https?:\/\/\S+)\s*$/;
const SETUP = /^destek: no admin yet; open (https?:\/\/\S+\/setup\?token=[A-Za-z0-9_-]{43}) /;

const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL'); // last resort if a test runner dies mid-test
});

/* Starts the server and resolves once it has printed its URL (and, with expectSetup, its setup URL).
 * Options: bin, dataDir (default: a fresh temp dir, removed by stop()), args (extra CLI arguments),
 * expectSetup (default true), timeoutMs (default 15000), env (extra environment). */
export function startServer(options = {}) {
  const bin = options.bin || destekBin();
  if (!fs.existsSync(bin)) {
    return Promise.reject(new Error(`destek binary not found at ${bin} (build it with ./build.sh or set DESTEK_BIN)`));
  }
  const ownDataDir = !options.dataDir;
  const dataDir = options.dataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'destek-e2e-'));
  const expectSetup = options.expectSetup !== false;
  const timeoutMs = options.timeoutMs || 15000;
  const args = ['serve', '--listen', '127.0.0.1:0', '--data', dataDir, ...(options.args || [])];
  const child = spawn(bin, args, {
    cwd: repoRoot,
    // 1,000 PBKDF2 rounds for new password hashes instead of 600,000 (see tests/api/lib.mjs).
    env: { DESTEK_PASSWORD_ITERATIONS: '1000', ...process.env, ...(options.env || {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);

  let log = '';
  let url = null;
  let setupUrl = null;
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      exited = { code, signal };
      resolve(exited);
    });
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => { log += chunk; });

  const server = {
    get url() { return url; },
    get setupUrl() { return setupUrl; },
    dataDir,
    process: child,
    /* Everything the server has printed so far (stdout and stderr). */
    log: () => log,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5000);
        await exitPromise;
        clearTimeout(timer);
      }
      if (ownDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      return exited;
    },
  };

  return new Promise((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => fail(`destek did not start within ${timeoutMs} ms`), timeoutMs);
    function fail(message) {
      clearTimeout(timer);
      server.stop().finally(() => reject(new Error(`${message}\n--- destek output ---\n${log}`)));
    }
    function ready() {
      if (url && (setupUrl || !expectSetup)) {
        clearTimeout(timer);
        resolve(server);
      }
    }
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, '');
        pending = pending.slice(nl + 1);
        let m;
        if ((m = LISTENING.exec(line))) url = m[1];
        else if ((m = SETUP.exec(line))) setupUrl = m[1];
        ready();
      }
    });
    child.on('error', (e) => fail(`could not run ${bin}: ${e.message}`));
    exitPromise.then((e) => {
      if (!url || (expectSetup && !setupUrl)) fail(`destek exited early (code ${e.code}, signal ${e.signal})`);
    });
  });
}
