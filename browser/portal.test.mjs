// The seed's portal steps in headless Chromium, at a laptop's width (1366 px)
// and a phone's (390 px), then the service principal's PUT: sign in as a
// world user, open Monitor > Machines, the Machine groups tab, the group (its
// id is in the URL), share it with the application user as User in the side
// panel with the keyboard alone, find a standalone machine's group in
// Data > Tables > All > Flow Machine Group, show that the service principal
// can now create a connection to the group, and delete a connection after its
// confirmation; then every other page: the create and edit side panels
// (New machine group, Set password, Change account password), forms
// refused with the message beside the field, a deployed solution and a
// desktop flow run. On every page: axe-core (run inside the page) reports
// zero violations, the page does not scroll sideways, and nothing is
// clipped: no cell, header, button, link or label whose content overflows
// its box, no table that hides a column, no table region wider than the
// viewport. A screenshot of each page goes to
// target/browser-screenshots/{width}-{step}.png. Prints "N passed, M
// failed" last, for .ci/run.
//
// Env: PADCONNECT_BIN (default ../target/debug/padconnect), CHROMIUM_PATH
// (default /usr/bin/chromium).

import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
const MAKER = 'bob@contoso.onmicrosoft.com';
const MAKER_PASSWORD = 'browser-test-maker-password';
const PFX_PASSWORD = 'browser-test-pfx-password';
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
certificates = ["run-owner.pem"]

[[tenants.users]]
upn = "${USER}"
display_name = "Contoso Admin"
password = "${PASSWORD}"

[[tenants.users]]
upn = "${MAKER}"
display_name = "Bob Maker"
password = "${MAKER_PASSWORD}"

[[tenants.environments]]
id = "${ENVIRONMENT}"
display_name = "Contoso Production"
org = "contoso"
application_users = ["${CLIENT_ID}"]
makers = ["${USER}", "${MAKER}"]

[[tenants.environments.machine_groups]]
id = "${GROUP}"
name = "Finance bots"
owner = "${USER}"
machines = ["FIN-VM-01", "FIN-VM-02"]

[[tenants.environments.machines]]
name = "HR-LAPTOP-07"
owner = "${USER}"
accounts = [{ username = "HR-LAPTOP-07\\\\hr-bot", password = "browser-test-account-password" }]
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

const axeSource = await readFile(path.join(path.dirname(fileURLToPath(import.meta.url)), 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/// axe-core's default rules (WCAG 2.x A and AA, best practices) inside the
/// page, evaluated through the DevTools protocol, so the portal's strict CSP
/// stays on; zero violations, or each one with its nodes.
async function checkAccessibility(page, where) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}; at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert(violations.length === 0, `axe-core on ${where}:\n  ${violations.join('\n  ')}`);
}

/// The page itself never scrolls sideways (tables scroll in their frames).
async function checkNoSidewaysScroll(page, where) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: document.documentElement.clientWidth,
  }));
  if (scroll > width) {
    const wide = await page.evaluate((w) => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > w + 1 && e.parentElement.getBoundingClientRect().right <= w + 1)
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className ? '.' + e.className : ''} (${Math.round(e.getBoundingClientRect().right)} px) in ${e.parentElement.outerHTML.slice(0, 120)} overflow ${getComputedStyle(e.parentElement).overflowX}`), width);
    throw new Error(`${where} scrolls sideways: ${scroll} px of content in ${width} px; widest: ${wide.join(', ')}`);
  }
}

/// Nothing is clipped. Each table's region (a `role=region` frame) lies
/// inside the viewport and shows every column without scrolling; no cell,
/// header, caption, heading, button, link, label or legend has content
/// wider than its box (inside a region that does scroll, that would be the
/// region's to show, so it is left to the region's own check); nor does
/// the content, or a side panel.
async function checkNoClipping(page, where) {
  const problems = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const name = (e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : ''} "${(e.textContent ?? '').trim().slice(0, 40)}"`;
    const found = [];
    const regions = [...document.querySelectorAll('[role=region][tabindex="0"]')];
    for (const region of regions) {
      const box = region.getBoundingClientRect();
      if (box.left < -1 || box.right > width + 1) {
        found.push(`region ${name(region)} spans ${Math.round(box.left)}..${Math.round(box.right)} px of a ${width} px viewport`);
      }
      if (region.scrollWidth > region.clientWidth + 1) {
        found.push(`region ${name(region)} hides columns: ${region.scrollWidth} px of table in ${region.clientWidth} px`);
      }
    }
    const scrolling = regions.filter((r) => r.scrollWidth > r.clientWidth + 1);
    const selector = 'td, th, caption, h1, h2, h3, button, a, label, legend, dt, dd, main, .panel, .command';
    for (const element of document.querySelectorAll(selector)) {
      if (scrolling.some((r) => r.contains(element))) continue;
      const box = element.getBoundingClientRect();
      // Not shown, or visually hidden on purpose (.sr: a 1 px clipped box).
      if (box.width <= 1 || box.height <= 1) continue;
      if (element.scrollWidth > element.clientWidth + 1) {
        found.push(`${name(element)}: ${element.scrollWidth} px of content in ${element.clientWidth} px`);
      }
    }
    return found;
  });
  assert(problems.length === 0, `clipped on ${where}:\n  ${problems.slice(0, 10).join('\n  ')}`);
}

/// Tab until `matches(element)` holds for the focused element, as a keyboard
/// user would; fails after `limit` presses.
async function tabTo(page, describe, matches, limit = 40) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(matches)) return;
  }
  throw new Error(`Tab never reached ${describe}`);
}

async function appToken(base) {
  const response = await fetch(`${base}/${TENANT}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: SECRET,
      scope: 'https://api.powerplatform.com/.default',
    }),
  });
  const text = await response.text();
  assert(response.ok, `token: ${response.status} ${text}`);
  return JSON.parse(text).access_token;
}

async function putConnection(base, token, connectionId, groupId) {
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
  const text = await put.text();
  assert(put.status === 201, `PUT: ${put.status} ${text}`);
}

/// The app's run-owner certificate: run-owner.pem for the world, and
/// run-owner.pfx (with its key) for `padconnect connect --run-owner-pfx`.
function runOwnerCertificate(dir) {
  const file = (name) => path.join(dir, name);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=deploy-pipeline',
    '-keyout', file('run-owner.key'), '-out', file('run-owner.pem')], { stdio: 'ignore' });
  execFileSync('openssl', ['pkcs12', '-export', '-inkey', file('run-owner.key'), '-in', file('run-owner.pem'),
    '-out', file('run-owner.pfx'), '-passout', `pass:${PFX_PASSWORD}`], { stdio: 'ignore' });
}

/// The service principal's environment for the CLI.
const appEnv = () => ({
  ...process.env,
  AZURE_TENANT_ID: TENANT,
  AZURE_CLIENT_ID: CLIENT_ID,
  AZURE_CLIENT_SECRET: SECRET,
  PADCONNECT_MACHINE_PASSWORD: 'browser-test-windows-password',
  PADCONNECT_PFX_PASSWORD: PFX_PASSWORD,
});

/// `padconnect connect` as the service principal to the group, with
/// `args` (the account, the parameter set); the new connection's id.
function connect(base, args) {
  const output = execFileSync(binary, ['connect', '--platform', base, '--environment', ENVIRONMENT, '--group', GROUP,
    ...args, '--output', 'json'], { env: appEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(output).connectionId;
}

/// A run-owner connection (the flows run as the app, proved by its
/// certificate).
function connectRunOwner(base, dir) {
  return connect(base, ['--username', 'CONTOSO\\svc-runner', '--parameter-set', 'azureRelayRunOwner',
    '--run-owner-pfx', path.join(dir, 'run-owner.pfx')]);
}

/// The example solution deployed with `connection` for its desktop flow
/// connection reference, then its desktop flow run once (`verify`).
function deployAndRun(base, dir, connection) {
  const solution = path.join(root, 'examples', 'DesktopFlows_1_0_0_0.zip');
  const settings = path.join(dir, 'settings.json');
  const run = (args) => execFileSync(binary, args, { env: appEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  run(['settings', '--solution', solution, '--uiflow-connection', connection, '--file', settings]);
  const where = ['--platform', base, '--environment', ENVIRONMENT];
  run(['deploy', '--solution', solution, '--settings', settings, ...where]);
  run(['verify', '--connection', connection, '--flow', 'Payroll export', '--timeout', '60', ...where]);
}

/// One run of the seed's path on a platform of its own, at one viewport.
async function seedPath(browser, width, height) {
  stopped = false; // a failure at one width does not skip the other
  const dir = await mkdtemp(path.join(tmpdir(), 'padconnect-browser-'));
  await writeFile(path.join(dir, 'world.toml'), WORLD);
  runOwnerCertificate(dir);
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
  const context = await browser.newContext({ viewport: { width, height } });
  try {
    await waitHealthy(base, server);
    const page = await context.newPage();
    // The portal works offline: every request stays on the platform.
    const foreign = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(base)) foreign.push(request.url());
    });
    const nav = () => page.getByRole('navigation', { name: 'Main' });
    const at = `${width} px`;
    // Every page of the path: accessible, no sideways scroll, nothing
    // clipped, a screenshot.
    const checkedIn = async (tab, name) => {
      await checkAccessibility(tab, `${name} at ${at}`);
      await checkNoSidewaysScroll(tab, `${name} at ${at}`);
      await checkNoClipping(tab, `${name} at ${at}`);
      if (width < 400) {
        // The narrowest phones too.
        await tab.setViewportSize({ width: 360, height });
        await checkNoSidewaysScroll(tab, `${name} at 360 px`);
        await checkNoClipping(tab, `${name} at 360 px`);
        await tab.setViewportSize({ width, height });
      }
      await tab.screenshot({ path: path.join(shots, `${width}-${name}.png`), fullPage: true });
    };
    const checked = (name) => checkedIn(page, name);
    // A form posted back to the page it came from: wait for the new page.
    const submitted = (tab, action) => Promise.all([tab.waitForNavigation(), action]);
    // A field refused in place: marked invalid, described by a message
    // that says `message`, and focused, so typing goes straight to it.
    const assertInvalid = async (tab, id, message) => {
      const field = tab.locator(`#${id}`);
      assert((await field.getAttribute('aria-invalid')) === 'true', `#${id} is not marked invalid`);
      const described = await field.getAttribute('aria-describedby');
      const text = await tab.locator(`#${described}`).textContent();
      assert(text.includes(message), `#${id}'s message: ${text}`);
      assert(await tab.evaluate((i) => document.activeElement?.id === i, id), `#${id} has no focus`);
      assert(!(await tab.title()).startsWith('Bad Request'), 'a separate error page');
    };
    let groupId;

    await step(`${at}: an anonymous visit leads to the sign-in form`, async () => {
      await page.goto(`${base}/`);
      assert(new URL(page.url()).pathname === '/signin', `at ${page.url()}`);
      assert((await page.title()).startsWith('Sign in'), await page.title());
      await checked('01-sign-in');
    });

    await step(`${at}: a blank or wrong field is named beside it, and signing in with the keyboard opens Monitor > Machines`, async () => {
      // Enter on the empty form: the account is named as missing, in place.
      const [blank] = await submitted(page, page.keyboard.press('Enter'));
      assert(blank.status() === 400, `status ${blank.status()}`);
      await assertInvalid(page, 'upn', 'Enter your email or UPN');
      await checked('02-sign-in-blank');
      await page.keyboard.type(USER);
      await page.keyboard.press('Tab');
      await page.keyboard.type('not-the-password');
      const [wrong] = await submitted(page, page.keyboard.press('Enter'));
      assert(wrong.status() === 401, `status ${wrong.status()}`);
      await assertInvalid(page, 'password', 'is wrong');
      assert((await page.getByLabel('Email or UPN').inputValue()) === USER, 'the account is kept');
      assert((await page.getByLabel('Password').inputValue()) === '', 'the password is not');
      await checked('02-sign-in-refused');
      // The password has focus: type it, Enter to submit.
      await page.keyboard.type(PASSWORD);
      await Promise.all([page.waitForURL(`**/environments/${ENVIRONMENT}/machines`), page.keyboard.press('Enter')]);
      assert((await page.title()).startsWith('Machines'), await page.title());
      assert((await nav().getByRole('link', { name: 'Machines' }).getAttribute('aria-current')) === 'page', 'Machines is current');
      await page.getByRole('link', { name: 'HR-LAPTOP-07' }).waitFor();
      await checked('03-machines');
    });

    await step(`${at}: the Machine groups tab lists the group, and its page has the group id in its URL`, async () => {
      const tabs = page.getByRole('navigation', { name: 'Machines views' });
      await Promise.all([page.waitForURL('**/machines/groups'), tabs.getByRole('link', { name: 'Machine groups' }).click()]);
      await checked('04-machine-groups');
      const groupLink = page.getByRole('region', { name: 'Machine groups' }).getByRole('link', { name: 'Finance bots' });
      await Promise.all([page.waitForURL('**/machines/groups/*'), groupLink.click()]);
      const match = new URL(page.url()).pathname.match(/\/machines\/groups\/([0-9a-f-]{36})$/);
      assert(match, `no group id in ${page.url()}`);
      groupId = match[1];
      assert(groupId === GROUP, `group id ${groupId}`);
      assert((await page.locator('#group-id').textContent()) === groupId, 'the page shows the same id');
      const idBox = await page.locator('#group-id').boundingBox();
      assert(idBox.height < 24, `the group id wraps: ${idBox.height} px high`);
      await checked('05-group');
    });

    await step(`${at}: the Share side panel shares the group with the application user as User, keyboard only`, async () => {
      await tabTo(page, 'the Share button', () => document.activeElement?.textContent === 'Share');
      await Promise.all([page.waitForURL('**/share'), page.keyboard.press('Enter')]);
      const panel = page.getByRole('dialog', { name: 'Share Finance bots' });
      await panel.waitFor();
      assert(await page.evaluate(() => document.activeElement?.id === 'q'), 'the search has focus');
      await checked('06-share-panel');
      await page.keyboard.type('deploy');
      await Promise.all([page.waitForURL('**/share?q=deploy'), page.keyboard.press('Enter')]);
      // The first match has focus: Space picks it, Tab reaches the
      // permission (User is the default), Tab again reaches Save.
      await page.waitForFunction(() => document.activeElement?.name === 'principal');
      await page.keyboard.press('Space');
      assert(await panel.getByLabel(/deploy-pipeline \(Application user/).isChecked(), 'the app is picked');
      await page.keyboard.press('Tab');
      assert(await page.evaluate(() => document.activeElement?.id === 'role-user'), 'focus on the permission');
      await page.keyboard.press('Tab');
      assert(await page.evaluate(() => document.activeElement?.textContent === 'Save'), 'focus on Save');
      await checked('07-share-picked');
      await Promise.all([page.waitForURL('**/share?notice=shared'), page.keyboard.press('Enter')]);
      const row = panel.getByRole('row').filter({ hasText: 'deploy-pipeline' });
      assert((await row.getByRole('cell').nth(1).textContent()) === 'User', await row.textContent());
      assert((await panel.getByRole('status').getAttribute('class')) === 'notice', 'the success is in the success style');
      await checked('08-shared');
      await Promise.all([page.waitForURL(`**/machines/groups/${GROUP}`), panel.getByRole('link', { name: 'Close' }).click()]);
    });

    await step(`${at}: Data > Tables > All > Flow Machine Group finds a standalone machine's group`, async () => {
      await Promise.all([page.waitForURL('**/tables'), nav().getByRole('link', { name: 'Tables' }).click()]);
      await checked('09-tables');
      await Promise.all([page.waitForURL('**/tables/flowmachinegroup'), page.getByRole('link', { name: 'Flow Machine Group' }).click()]);
      await page.getByLabel('Search by name').fill('HR-LAPTOP-07');
      await Promise.all([page.waitForURL('**/tables/flowmachinegroup?q=HR-LAPTOP-07'), page.getByLabel('Search by name').press('Enter')]);
      const rows = page.locator('tbody tr');
      assert((await rows.count()) === 1, `${await rows.count()} rows`);
      const id = await rows.first().locator('td').nth(1).textContent();
      assert(/^[0-9a-f-]{36}$/.test(id), `group id cell: ${id}`);
      await checked('10-flow-machine-group-table');
    });

    const connectionId = randomUUID();
    await step(`${at}: the service principal creates a connection to the shared group (201)`, async () => {
      await putConnection(base, await appToken(base), connectionId, groupId);
    });

    await step(`${at}: the connection shows in Data > Connections, and Delete asks first`, async () => {
      await Promise.all([page.waitForURL('**/connections'), nav().getByRole('link', { name: 'Connections' }).click()]);
      // Connection ids show as the API names them: 32 hex digits, no hyphens.
      const row = page.getByRole('row').filter({ hasText: connectionId.replaceAll('-', '') });
      assert((await row.count()) === 1, 'the new connection is listed');
      assert((await row.textContent()).includes('Connected'), await row.textContent());
      assert((await row.getByRole('link', { name: /^Share/ }).count()) === 0, 'an azureRelay connection has no Share');
      await checked('11-connections');
      await Promise.all([page.waitForURL('**/delete'), row.getByRole('link', { name: /^Delete/ }).click()]);
      await checked('12-delete-confirmation');
      await Promise.all([page.waitForURL('**/connections?notice=deleted'), page.getByRole('button', { name: 'Delete' }).click()]);
      assert((await page.getByRole('row').filter({ hasText: connectionId.replaceAll('-', '') }).count()) === 0, 'deleted');
      await checked('13-deleted');
    });

    await step(`${at}: the other pages pass too: My flows, Desktop flow runs, environments, a standalone machine, its Share and account password panels`, async () => {
      await Promise.all([page.waitForURL('**/flows'), nav().getByRole('link', { name: 'My flows' }).click()]);
      await checked('14-my-flows');
      await Promise.all([page.waitForURL('**/desktop-flow-runs'), nav().getByRole('link', { name: 'Desktop flow runs' }).click()]);
      assert((await nav().getByRole('link', { name: 'Desktop flow runs' }).getAttribute('aria-current')) === 'page', 'Desktop flow runs is current');
      await checked('14-desktop-flow-runs');
      await page.goto(`${base}/environments`);
      await checked('15-environments');
      await page.goto(`${base}/environments/${ENVIRONMENT}/machines`);
      await Promise.all([page.waitForURL('**/machines/*'), page.getByRole('link', { name: 'HR-LAPTOP-07' }).click()]);
      await page.getByRole('heading', { name: 'Windows accounts' }).waitFor();
      await checked('16-standalone-machine');
      // Change account password: a command, then a side panel; a refused
      // form comes back in it with the account kept, the passwords not.
      const commands = page.getByRole('group', { name: 'Machine commands' });
      await Promise.all([page.waitForURL('**?panel=account-password'), commands.getByRole('link', { name: 'Change account password' }).click()]);
      const accountPanel = page.getByRole('dialog', { name: /^Change an account password/ });
      await accountPanel.waitFor();
      await accountPanel.getByLabel('Account', { exact: true }).waitFor();
      await checked('16-account-password-panel');
      await accountPanel.getByLabel(/^New password/).fill('browser-test-new-1');
      await accountPanel.getByLabel('Confirm the password').fill('browser-test-new-2');
      await submitted(page, accountPanel.getByRole('button', { name: 'Change password' }).click());
      await assertInvalid(page, 'account-confirmation', 'The two passwords differ');
      assert((await page.getByLabel(/^New password/).inputValue()) === '', 'no password written back');
      assert((await page.getByLabel('Account', { exact: true }).inputValue()).endsWith('hr-bot'), 'the account is kept');
      await checked('16-account-password-refused');
      await Promise.all([page.waitForURL('**/machines/*'), page.getByRole('dialog').getByRole('link', { name: 'Cancel' }).click()]);
      await Promise.all([page.waitForURL('**/share'), commands.getByRole('link', { name: 'Share', exact: true }).click()]);
      await page.getByRole('dialog', { name: 'Share HR-LAPTOP-07' }).waitFor();
      await checked('17-standalone-machine-share');
      // Save with nobody chosen: the choice is named as missing, in place.
      await submitted(page, page.getByRole('button', { name: 'Save' }).click());
      const missing = page.getByRole('group', { name: 'Share with' });
      assert((await missing.getAttribute('aria-invalid')) === 'true', 'the choice is not marked invalid');
      await checked('17-share-refused');
    });

    await step(`${at}: New machine group and Set password are commands that open side panels, and refused fields are named beside them`, async () => {
      await page.goto(`${base}/environments/${ENVIRONMENT}/machines/groups`);
      const commands = page.getByRole('group', { name: 'Machine group commands' });
      await Promise.all([page.waitForURL('**?panel=new'), commands.getByRole('link', { name: 'New machine group' }).click()]);
      const panel = page.getByRole('dialog', { name: 'New machine group' });
      await panel.waitFor();
      assert(await page.evaluate(() => document.activeElement?.id === 'group-name'), 'the name has focus');
      await checked('18-new-group-panel');
      // A blank name: the same panel, the description kept.
      await panel.getByLabel('Description (optional)').fill('Nightly payroll');
      await submitted(page, panel.getByRole('button', { name: 'Create' }).click());
      await assertInvalid(page, 'group-name', 'Name is required');
      assert((await page.getByLabel('Description (optional)').inputValue()) === 'Nightly payroll', 'the description is kept');
      await checked('18-new-group-refused');
      await page.keyboard.type('Payroll bots');
      await Promise.all([page.waitForURL('**/machines/groups/*?notice=created'), page.getByRole('button', { name: 'Create' }).click()]);
      await checked('18-new-group');
      const groupCommands = page.getByRole('group', { name: 'Machine group commands' });
      await Promise.all([page.waitForURL('**?panel=password'), groupCommands.getByRole('link', { name: 'Set password' }).click()]);
      const passwordPanel = page.getByRole('dialog', { name: 'Set the group password' });
      await passwordPanel.waitFor();
      await checked('19-password-panel');
      await passwordPanel.getByLabel(/^New password/).fill('short');
      await passwordPanel.getByLabel('Confirm the password').fill('short');
      await submitted(page, passwordPanel.getByRole('button', { name: 'Set password' }).click());
      await assertInvalid(page, 'password', '8 to 256 characters');
      assert((await page.getByLabel('Confirm the password').inputValue()) === '', 'no password written back');
      await checked('19-password-refused');
      await page.getByLabel(/^New password/).fill('browser-test-group-pass');
      await page.getByLabel('Confirm the password').fill('browser-test-group-pass');
      await Promise.all([page.waitForURL('**?notice=password'), page.getByRole('button', { name: 'Set password' }).click()]);
      assert((await groupCommands.getByRole('link', { name: 'Rotate password' }).count()) === 1, 'Set becomes Rotate');
      await checked('19-password-set');
    });

    await step(`${at}: a deployed solution and its desktop flow run show in Solutions and Desktop flow runs`, async () => {
      const connection = connect(base, ['--username', 'CONTOSO\\svc-bot']);
      deployAndRun(base, dir, connection);
      await Promise.all([page.waitForURL('**/solutions'), nav().getByRole('link', { name: 'Solutions' }).click()]);
      await checked('20-solutions');
      await Promise.all([page.waitForURL('**/solutions/*'), page.getByRole('link', { name: 'DesktopFlows' }).click()]);
      await page.getByRole('region', { name: 'Flows' }).waitFor();
      await checked('20-solution');
      await Promise.all([page.waitForURL('**/desktop-flow-runs'), nav().getByRole('link', { name: 'Desktop flow runs' }).click()]);
      const run = page.getByRole('row').filter({ hasText: 'Payroll export' });
      assert((await run.count()) === 1, `${await run.count()} runs`);
      assert((await run.textContent()).includes('Succeeded'), await run.textContent());
      await checked('20-desktop-flow-run');
    });

    await step(`${at}: a run-owner connection has a Share page, and a user who may not share gets a 403 in the layout`, async () => {
      const runOwner = connectRunOwner(base, dir);
      await page.goto(`${base}/environments/${ENVIRONMENT}/connections`);
      const row = page.getByRole('row').filter({ hasText: runOwner.replaceAll('-', '') });
      await Promise.all([page.waitForURL('**/share'), row.getByRole('link', { name: /^Share/ }).click()]);
      await checked('21-connection-share');
      // Bob may use Finance bots, not share it.
      await page.goto(`${base}/environments/${ENVIRONMENT}/machines/groups/${GROUP}/share?q=bob`);
      await page.getByLabel(/Bob Maker/).check();
      await Promise.all([page.waitForURL('**/share?notice=shared'), page.getByRole('button', { name: 'Save' }).click()]);
      const bob = await (await browser.newContext({ viewport: { width, height } })).newPage();
      try {
        await bob.goto(`${base}/signin`);
        await bob.getByLabel('Email or UPN').fill(MAKER);
        await bob.getByLabel('Password').fill(MAKER_PASSWORD);
        await Promise.all([bob.waitForURL('**/machines'), bob.getByRole('button', { name: 'Sign in' }).click()]);
        const refused = await bob.goto(`${base}/environments/${ENVIRONMENT}/machines/groups/${GROUP}/share`);
        assert(refused.status() === 403, `status ${refused.status()}`);
        await bob.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Machines' }).waitFor();
        await checkedIn(bob, '22-forbidden');
        // His view of the group: no command he may not use.
        await bob.goto(`${base}/environments/${ENVIRONMENT}/machines/groups/${GROUP}`);
        assert((await bob.getByRole('group', { name: 'Machine group commands' }).count()) === 0, 'Bob has commands');
        await checkedIn(bob, '22-group-as-user');
      } finally {
        await bob.context().close();
      }
    });

    await step(`${at}: a missing page is inside the layout, and signing out ends the session`, async () => {
      const missing = await page.goto(`${base}/environments/${ENVIRONMENT}/no-such-page`);
      assert(missing.status() === 404, `status ${missing.status()}`);
      await nav().getByRole('link', { name: 'Home' }).waitFor();
      await checked('23-not-found');
      await Promise.all([page.waitForURL('**/home'), page.getByRole('link', { name: 'Go to Home' }).click()]);
      await checked('24-home');
      await Promise.all([page.waitForURL('**/signin'), page.getByRole('button', { name: 'Sign out' }).click()]);
      await page.goto(`${base}/environments/${ENVIRONMENT}/machines`);
      assert(new URL(page.url()).pathname === '/signin', `still signed in at ${page.url()}`);
      await page.screenshot({ path: path.join(shots, `${width}-25-signed-out.png`), fullPage: true });
      assert(foreign.length === 0, `requests left the platform: ${foreign.join(', ')}`);
    });
  } finally {
    await context.close();
    server.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
    if (stopped && serverLog) console.log(`--- padconnect serve log (${width} px) ---\n${serverLog.slice(-4000)}`);
  }
}

await mkdir(shots, { recursive: true });
let browser;
try {
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Running as root in CI containers needs this.
    args: ['--no-sandbox'],
  });
  await seedPath(browser, 1366, 768);
  await seedPath(browser, 390, 844);
} catch (error) {
  results.push({ name: 'setup', ok: false });
  console.log(`not ok setup: ${error.stack ?? error}`);
} finally {
  await browser?.close();
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`screenshots: ${shots}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
