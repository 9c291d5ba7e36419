// Node google-auth-library + gcp-metadata against `wims up` (the GKE metadata server path).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startWims, cleanSdkEnv } = require('./wims_harness');

const GSA = 'demo@wims-local.iam.gserviceaccount.com';

test('google-auth-library and gcp-metadata get the pod identity from wims', async (t) => {
  cleanSdkEnv();
  const wims = await startWims();
  t.after(() => wims.stop());
  process.env.GCE_METADATA_HOST = wims.ready.metadata;
  process.env.METADATA_SERVER_DETECTION = 'ping-only';
  // Both libraries read the environment when first used, so load them now.
  const gcpMetadata = require('gcp-metadata');
  const { GoogleAuth } = require('google-auth-library');

  await t.test('gcp-metadata', async () => {
    assert.strictEqual(await gcpMetadata.isAvailable(), true);
    assert.strictEqual(await gcpMetadata.project('project-id'), 'wims-local');
    assert.strictEqual(await gcpMetadata.instance('service-accounts/default/email'), GSA);
    const zone = await gcpMetadata.instance('zone');
    assert.match(zone, /^projects\/\d+\/zones\/[a-z]+-[a-z]+\d-[a-z]$/);
  });

  await t.test('GoogleAuth access token reads the bucket', async () => {
    const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
    assert.strictEqual(await auth.getProjectId(), 'wims-local');
    const token = await auth.getAccessToken();
    assert.ok(token && token.length > 20);
    const res = await fetch(`http://${wims.ready.cloud}/storage/v1/b/wims-demo-bucket/o/hello.txt?alt=media`,
      { headers: { Authorization: `Bearer ${token}` } });
    assert.strictEqual(res.status, 200);
    assert.strictEqual(await res.text(), 'hello from wims\n');
  });

  await t.test('getIdTokenClient returns an ID token for the audience', async () => {
    const auth = new GoogleAuth();
    const client = await auth.getIdTokenClient('https://example.wims.test');
    const headers = await client.getRequestHeaders();
    const authz = headers instanceof Headers ? headers.get('authorization') : headers.Authorization;
    assert.match(authz, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(authz.split(' ')[1].split('.')[1], 'base64url').toString());
    assert.strictEqual(claims.aud, 'https://example.wims.test');
    assert.ok(claims.exp * 1000 > Date.now());
  });
});
