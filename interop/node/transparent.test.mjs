// MSAL Node and @azure/identity, unchanged, against `padconnect serve` in
// transparent mode: the platform is only an HTTPS proxy to them, its CA
// trusted through NODE_EXTRA_CA_CERTS, as `padconnect env` prints it.
// Prints "N passed, M failed" last.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.PADCONNECT_BIN ?? join(here, '../../target/debug/padconnect');
const world = join(here, '../../examples/world.toml');
const TENANT = '8a235459-3d2c-415d-8c1e-e2fe133509ad';
const APP = '5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40';
const SECRET = 'example-secret-value';

const dir = await mkdtemp(join(tmpdir(), 'padconnect-node-'));
const data = join(dir, 'data');
const server = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--log-format', 'json', '--data-dir', data, '--world', world], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
let log = '';
const listening = new Promise((resolve, reject) => {
  server.stderr.on('data', (chunk) => {
    log += chunk;
    const url = log.match(/"url":"([^"]+)"/);
    if (url) resolve(url[1]);
  });
  server.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${log}`)));
});

const results = [];
try {
  await listening;
  // The lines a shell would eval, as a child environment.
  const lines = execFileSync(bin, ['env', '--data-dir', data], { encoding: 'utf8' });
  const env = { ...process.env };
  for (const line of lines.trim().split('\n')) {
    const [, name, value] = line.match(/^export (\w+)='(.*)'$/);
    env[name] = value;
  }
  const got = JSON.parse(execFileSync(process.execPath, [join(here, 'client.mjs'), TENANT, APP, SECRET], { env, encoding: 'utf8' }));
  for (const [name, audience] of Object.entries(got)) {
    const ok = audience === 'https://api.powerplatform.com';
    results.push(ok);
    console.log(`${ok ? 'ok' : 'not ok'} ${name}: a token for ${audience}`);
  }
  if (results.length !== 2) throw new Error(`expected two clients, got ${JSON.stringify(got)}`);
} catch (error) {
  results.push(false);
  console.log(`not ok: ${error.stack ?? error}\n--- serve log ---\n${log.slice(-3000)}`);
} finally {
  server.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
const passed = results.filter(Boolean).length;
console.log(`${passed} passed, ${results.length - passed} failed`);
process.exitCode = passed === results.length ? 0 : 1;
