// dynamics-web-api, unchanged, against `padconnect serve`: its FetchXML
// `fetch` (one page, with the paging cookie it reads back) and `fetchAll`
// (every page, following the cookie), and `executeBatch` ($batch, with and
// without continueOnError), on the example world's Dataverse as
// the example app, compared with what OData answers the same caller.
// Prints "N passed, M failed" last.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamicsWebApi } from 'dynamics-web-api';

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.PADCONNECT_BIN ?? join(here, '../../target/debug/padconnect');
const world = join(here, '../../examples/world.toml');
const TENANT = '8a235459-3d2c-415d-8c1e-e2fe133509ad';
const APP = '5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40';
const SECRET = 'example-secret-value';

const dir = await mkdtemp(join(tmpdir(), 'padconnect-dwa-'));
const server = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--log-format', 'json', '--data-dir', join(dir, 'data'), '--world', world], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
let log = '';
const listening = new Promise((resolve, reject) => {
  server.stderr.on('data', (chunk) => {
    log += chunk;
    const url = log.match(/"url":"([^"]+)"/);
    if (url) resolve(url[1].replace(/\/$/, ''));
  });
  server.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${log}`)));
});

const results = [];
const check = (ok, name, detail = '') => {
  results.push(ok);
  console.log(`${ok ? 'ok' : 'not ok'} ${name}${ok || !detail ? '' : `: ${detail}`}`);
};

const machines = (count) => `<fetch${count ? ` count="${count}"` : ''}>
  <entity name="flowmachine">
    <attribute name="name" />
    <order attribute="name" />
    <link-entity name="flowmachinegroup" from="flowmachinegroupid" to="flowmachinegroupid" alias="g">
      <attribute name="name" />
    </link-entity>
  </entity>
</fetch>`;

try {
  const url = await listening;
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: APP,
    client_secret: SECRET,
    scope: 'https://contoso.crm.dynamics.com/.default',
  });
  const token = (await (await fetch(`${url}/${TENANT}/oauth2/v2.0/token`, { method: 'POST', body: form })).json()).access_token;
  // The org's path-style address; the library appends api/data/v9.2/.
  const api = new DynamicsWebApi({ serverUrl: `${url}/orgs/contoso/`, dataApi: { version: '9.2' }, onTokenRefresh: async () => token });

  const odata = await api.retrieveMultiple({ collection: 'flowmachines', select: ['name'], orderBy: ['name'] });
  const expected = odata.value.map((row) => row.name);
  check(expected.length >= 2, 'OData reads at least two machines, so FetchXML pages', JSON.stringify(expected));

  const first = await api.fetch({ collection: 'flowmachines', fetchXml: machines(1) });
  check(
    first.value.length === 1 && first.value[0].name === expected[0],
    'fetch answers the first page of one row',
    JSON.stringify(first.value),
  );
  check(
    first.PagingInfo?.nextPage === 2 && first.PagingInfo.cookie.startsWith('&lt;cookie page=&quot;1&quot;&gt;'),
    'fetch reads the paging cookie and the next page number',
    JSON.stringify(first.PagingInfo),
  );
  check(typeof first.value[0]['g.name'] === 'string', 'a link-entity column comes back as alias.attribute', JSON.stringify(first.value[0]));

  const second = await api.fetch({ collection: 'flowmachines', fetchXml: machines(1), pageNumber: first.PagingInfo.nextPage, pagingCookie: first.PagingInfo.cookie });
  check(second.value[0]?.name === expected[1], 'fetch with the cookie answers the next page', JSON.stringify(second.value));

  const all = await api.fetchAll({ collection: 'flowmachines', fetchXml: machines(1) });
  const names = all.value.map((row) => row.name);
  check(JSON.stringify(names) === JSON.stringify(expected), 'fetchAll follows the cookie through every page to the rows OData reads', JSON.stringify(names));

  const whole = await api.fetchAll({ collection: 'flowmachines', fetchXml: machines() });
  check(whole.value.length === expected.length, 'fetchAll of one page', JSON.stringify(whole.value));

  try {
    await api.fetch({ collection: 'flowmachines', fetchXml: '<fetch><entity name="flowmachine"><attribute name="colour" /></entity></fetch>' });
    check(false, 'an unknown attribute is refused');
  } catch (error) {
    check(error.status === 400 && error.code === '0x80041103', 'an unknown attribute is refused with Dataverse\'s code', `${error.status} ${error.code} ${error.message}`);
  }

  // $batch: dynamics-web-api writes LF line breaks and its own boundaries.
  api.startBatch();
  api.retrieveMultiple({ collection: 'flowmachines', select: ['name'], orderBy: ['name'] });
  api.retrieveMultiple({ collection: 'flowmachinegroups', select: ['name'], orderBy: ['name'] });
  const batched = await api.executeBatch();
  check(
    batched.length === 2 && JSON.stringify(batched[0].value.map((row) => row.name)) === JSON.stringify(expected) && batched[1].value.length >= 1,
    'executeBatch answers each retrieveMultiple in order with the rows it reads alone',
    JSON.stringify(batched),
  );
  api.startBatch();
  api.retrieve({ collection: 'flowmachinegroups', key: '11111111-2222-3333-4444-555555555555', select: ['name'] });
  api.retrieveMultiple({ collection: 'flowmachines', select: ['name'] });
  const continued = await api.executeBatch({ continueOnError: true });
  check(
    continued.length === 2 && continued[0] instanceof Error && continued[0].status === 404 && continued[1].value?.length === expected.length,
    'executeBatch with continueOnError answers the missing row\'s 404 and goes on',
    JSON.stringify(continued, Object.getOwnPropertyNames(continued[0] ?? {})),
  );
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
