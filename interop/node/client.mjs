// Run by transparent.test.mjs in a child process whose environment is what
// `padconnect env` printed (NODE_EXTRA_CA_CERTS only works from the start).
// Prints one JSON line: the audience of the token each client got.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { ClientSecretCredential } from '@azure/identity';

const [tenant, clientId, secret] = process.argv.slice(2);
const scope = 'https://api.powerplatform.com/.default';
const audience = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).aud;
const out = {};

// @azure/identity with no options: its pipeline's proxy policy reads HTTPS_PROXY.
const credential = new ClientSecretCredential(tenant, clientId, secret);
out.identity = audience((await credential.getToken(scope)).token);

// MSAL Node, default authority and instance discovery. Its own `proxyUrl`
// writes the request in clear text inside the CONNECT tunnel, which the
// cloud refuses too (AzureAD/microsoft-authentication-library-for-js#8024),
// so it gets the network client its maintainers point to (#6527): HTTPS
// through a CONNECT tunnel to HTTPS_PROXY.
const proxy = new URL(process.env.HTTPS_PROXY);
function tunnel(url) {
  return new Promise((resolve, reject) => {
    http
      .request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: `${url.hostname}:443` })
      .on('connect', (response, socket) =>
        response.statusCode === 200
          ? resolve(tls.connect({ socket, servername: url.hostname }))
          : reject(new Error(`CONNECT ${url.hostname}: ${response.statusCode}`)),
      )
      .on('error', reject)
      .end();
  });
}
async function send(method, target, options = {}) {
  const url = new URL(target);
  const socket = await tunnel(url);
  return new Promise((resolve, reject) => {
    const request = https.request(url, { method, headers: options.headers, createConnection: () => socket }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body: JSON.parse(body) }));
    });
    request.on('error', reject);
    request.end(options.body);
  });
}
const msal = new ConfidentialClientApplication({
  auth: { clientId, clientSecret: secret, authority: `https://login.microsoftonline.com/${tenant}` },
  system: {
    networkClient: {
      sendGetRequestAsync: (url, options) => send('GET', url, options),
      sendPostRequestAsync: (url, options) => send('POST', url, options),
    },
  },
});
out.msal = audience((await msal.acquireTokenByClientCredential({ scopes: [scope] })).accessToken);

console.log(JSON.stringify(out));
