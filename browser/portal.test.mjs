// The seed's portal steps in headless Chromium, then the service principal's
// PUT: sign in as a world user, open Machines, open the group (its id is in
// the URL), share it with the application user as User, find a standalone
// machine's group in Data > Tables, and show that the service principal can
// now create a connection to the group. A screenshot of each page goes to
// target/browser-screenshots/. Prints "N passed, M failed" last, for .ci/run.
//
// Env: PADCONNECT_BIN (default ../target/debug/padconnect), CHROMIUM_PATH
// (default /usr/bin/chromium).

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const binary = process.env.PADCONNECT_BIN ?? path.join(root, 'target', 'debug', 'padconnect');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = path.join(root, 'target', 'browser-screenshots');

const TENANT = '8a235459-3d2c-415d-8c1e-e2fe133509ad';
const CLIENT_ID = '5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40';
const SECRET = 'browser-test-secret';
const USER = 'admin@contoso.onmicrosoft.com';
const PASSWORD = 'browser-test-password';
const ENVIRONMENT = '37520647-dbdf-49fa-ba01-6134c14680c4';
const GROUP = 'a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d';

// The example world without its share: the browser does the sharing.
const WORLD = `
[[tenants]]
id = "${TENANT}"
domain = "contoso.onmicrosoft.com"
admins = ["${USER}"]

[[tenants.apps]]
display_name = "deploy-pipeline"
client_id = "${CLIENT_ID}"
secrets = ["${SECRET}"]

[[tenants.users]]
upn = "${USER}"
display_name = "Contoso Admin"
password = "${PASSWORD}"

[[tenants.environments]]
id = "${ENVIRONMENT}"
display_name = "Contoso Production"
org = "contoso"
application_users = ["${CLIENT_ID}"]
makers = ["${USER}"]

[[tenants.environments.machine_groups]]
id = "${GROUP}"
name = "Finance bots"
owner = "${USER}"
machines = ["FIN-VM-01", "FIN-VM-02"]

[[tenants.environments.machines]]
name = "HR-LAPTOP-07"
owner = "${USER}"
`;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitHealthy(base, child) {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`padconnect serve exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('padconnect serve did not become healthy in 20 s');
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const results = [];
let stopped = false;
async function step(name, body) {
  if (stopped) {
    results.push({ name, ok: false, skipped: true });
    console.log(`- skipped: ${name}`);
    return;
  }
  const started = Date.now();
  try {
    await body();
    results.push({ name, ok: true });
    console.log(`ok ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.push({ name, ok: false });
    stopped = true; // each step builds on the one before
    console.log(`not ok ${name}: ${error.stack ?? error}`);
  }
}

const dir = await mkdtemp(path.join(tmpdir(), 'padconnect-browser-'));
await mkdir(shots, { recursive: true });
await writeFile(path.join(dir, 'world.toml'), WORLD);
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(
  binary,
  ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', path.join(dir, 'data'), '--world', path.join(dir, 'world.toml')],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let serverLog = '';
server.stderr.on('data', (chunk) => {
  serverLog += chunk;
});

let browser;
try {
  await waitHealthy(base, server);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Running as root in CI containers needs this.
    args: ['--no-sandbox'],
  });
  const page = await (await browser.newContext()).newPage();
  // The portal works offline: every request stays on the platform.
  const foreign = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(base)) foreign.push(request.url());
  });
  const shot = (name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  let groupId;
  const groupLink = () => page.getByRole('table', { name: 'Machine groups' }).getByRole('link', { name: 'Finance bots' });

  await step('an anonymous visit leads to the sign-in form', async () => {
    await page.goto(`${base}/`);
    assert(new URL(page.url()).pathname === '/signin', `at ${page.url()}`);
    assert((await page.title()).startsWith('Sign in'), await page.title());
    await shot('01-sign-in');
  });

  await step('signing in with the keyboard opens Machines', async () => {
    // The UPN field has focus; type, Tab to the password, Enter to submit.
    await page.keyboard.type(USER);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await Promise.all([page.waitForURL(`**/environments/${ENVIRONMENT}/machines`), page.keyboard.press('Enter')]);
    assert((await page.title()).startsWith('Machines'), await page.title());
    await groupLink().waitFor();
    await shot('02-machines');
  });

  await step('the group page has the group id in its URL', async () => {
    await Promise.all([page.waitForURL('**/machines/groups/**'), groupLink().click()]);
    const match = new URL(page.url()).pathname.match(/\/machines\/groups\/([0-9a-f-]{36})$/);
    assert(match, `no group id in ${page.url()}`);
    groupId = match[1];
    assert(groupId === GROUP, `group id ${groupId}`);
    assert((await page.locator('#group-id').textContent()) === groupId, 'the page shows the same id');
    await shot('03-group');
  });

  await step('the Share panel shares the group with the application user as User', async () => {
    await Promise.all([page.waitForURL('**/share'), page.getByRole('link', { name: 'Share', exact: true }).click()]);
    await page.getByLabel('Search users and application users').fill('deploy');
    await Promise.all([page.waitForURL('**/share?q=deploy'), page.getByLabel('Search users and application users').press('Enter')]);
    await page.getByLabel(/deploy-pipeline \(Application user/).check();
    await page.getByLabel(/^User:/).check();
    await shot('04-share-panel');
    await Promise.all([page.waitForURL('**/share?notice=shared'), page.getByRole('button', { name: 'Save' }).click()]);
    const row = page.getByRole('row').filter({ hasText: 'deploy-pipeline' });
    assert((await row.getByRole('cell').nth(3).textContent()) === 'User', await row.textContent());
    await shot('05-shared');
  });

  await step('Data > Tables > Flow Machine Group finds a standalone machine\'s group', async () => {
    await Promise.all([
      page.waitForURL('**/tables/flowmachinegroup'),
      page.getByRole('link', { name: /Flow Machine Group/ }).click(),
    ]);
    await page.getByLabel('Search by name').fill('HR-LAPTOP-07');
    await Promise.all([page.waitForURL('**/tables/flowmachinegroup?q=HR-LAPTOP-07'), page.getByLabel('Search by name').press('Enter')]);
    const rows = page.locator('tbody tr');
    assert((await rows.count()) === 1, `${await rows.count()} rows`);
    const id = await rows.first().locator('td').nth(1).textContent();
    assert(/^[0-9a-f-]{36}$/.test(id), `group id cell: ${id}`);
    await shot('06-flow-machine-group-table');
  });

  const connectionId = randomUUID();
  await step('the service principal creates a connection to the shared group (201)', async () => {
    const tokenResponse = await fetch(`${base}/${TENANT}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: SECRET,
        scope: 'https://api.powerplatform.com/.default',
      }),
    });
    const tokenBody = await tokenResponse.text();
    assert(tokenResponse.ok, `token: ${tokenResponse.status} ${tokenBody}`);
    const { access_token: token } = JSON.parse(tokenBody);
    const put = await fetch(
      `${base}/environments/${ENVIRONMENT}/connectivity/connectors/shared_uiflow/connections/${connectionId}?api-version=1`,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          properties: {
            environment: { id: `/providers/Microsoft.PowerApps/environments/${ENVIRONMENT}`, name: ENVIRONMENT },
            connectionParametersSet: {
              name: 'azureRelay',
              values: {
                username: { value: 'CONTOSO\\svc-bot' },
                password: { value: 'browser-test-windows-password' },
                targetId: { value: groupId },
              },
            },
          },
        }),
      },
    );
    const putBody = await put.text();
    assert(put.status === 201, `PUT: ${put.status} ${putBody}`);
  });

  await step('the connection shows in Connections, and signing out ends the session', async () => {
    await Promise.all([page.waitForURL('**/connections'), page.getByRole('link', { name: 'Connections' }).click()]);
    // Connection ids show as the API names them: 32 hex digits, no hyphens.
    const row = page.getByRole('row').filter({ hasText: connectionId.replaceAll('-', '') });
    assert((await row.count()) === 1, 'the new connection is listed');
    assert((await row.textContent()).includes('Connected'), await row.textContent());
    await shot('07-connections');
    await Promise.all([page.waitForURL('**/signin'), page.getByRole('button', { name: 'Sign out' }).click()]);
    await page.goto(`${base}/environments/${ENVIRONMENT}/machines`);
    assert(new URL(page.url()).pathname === '/signin', `still signed in at ${page.url()}`);
    await shot('08-signed-out');
    assert(foreign.length === 0, `requests left the platform: ${foreign.join(', ')}`);
  });
} catch (error) {
  results.push({ name: 'setup', ok: false });
  console.log(`not ok setup: ${error.stack ?? error}`);
} finally {
  await browser?.close();
  server.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
if (failed > 0 && serverLog) console.log(`--- padconnect serve log ---\n${serverLog.slice(-4000)}`);
console.log(`screenshots: ${shots}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
