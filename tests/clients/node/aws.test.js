// @aws-sdk/credential-providers (pinned in package-lock.json) against `wims up`: fromInstanceMetadata() through the
// EC2 IMDS emulator, and fromHttp() / fromContainerMetadata() through the container-credentials endpoint, all get the
// AWS role of the built-in pod default/demo (arn:aws:iam::111122223333:role/wims-demo; callers are told apart by
// address and the pod owns 127.0.0.1). A GetCallerIdentity signed with the credentials (SigV4 by @smithy/signature-v4,
// pinned directly in package.json) proves the local STS issued them. The IMDS modes of `wims up` get a wims each:
// --imds-tokens disabled (v1 fallback after the 403 PUT; AWS_EC2_METADATA_V1_DISABLED / ec2MetadataV1Disabled make
// the SDK refuse with InstanceMetadataV1FallbackError), --imds-tokens required (tokenless GET 401, the SDK uses v2),
// and an IPv6 metadata listener ([::1]:0).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startWims, cleanSdkEnv } = require('./wims_harness');

const ASSUMED_ROLE_PREFIX = 'arn:aws:sts::111122223333:assumed-role/wims-demo/';
const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';

// The hash constructor SignatureV4 expects (the @aws-crypto / @smithy hash shape) over node:crypto.
class Sha256 {
  constructor(secret) {
    this.hash = secret ? crypto.createHmac('sha256', secret) : crypto.createHash('sha256');
  }
  update(data) {
    this.hash.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

function post(url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, timeout: 10000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

// The ARN GetCallerIdentity answers for `credentials` at the local STS.
async function callerArn(stsUrl, credentials) {
  const { SignatureV4 } = require('@smithy/signature-v4');
  const url = new URL(stsUrl);
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const signer = new SignatureV4({ service: 'sts', region: 'us-east-1', credentials, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname,
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body,
  });
  const res = await post(stsUrl, signed.headers, body);
  assert.strictEqual(res.status, 200, res.text);
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(res.text);
  assert.ok(arn, res.text);
  return arn[1];
}

function podToken(wims, audience) {
  const out = execFileSync(process.env.WIMS_BIN, ['token', 'default/demo', '--pod', 'demo', '--audience', audience,
    '--cloud', `http://${wims.ready.cloud}`, '--admin-token-file', wims.ready.admin_token_file],
  { encoding: 'utf8', timeout: 60000 });
  return out.trim();
}

function assertCredentials(creds) {
  assert.match(creds.accessKeyId, /^ASIA/);
  assert.ok(creds.secretAccessKey, 'no secretAccessKey');
  assert.ok(creds.sessionToken, 'no sessionToken');
  assert.ok(creds.expiration instanceof Date && creds.expiration > new Date(), `expiration ${creds.expiration}`);
}

// Runs `fn`; on failure prints the tail of wims's log before rethrowing.
async function withLogs(wims, fn) {
  try {
    await fn();
  } catch (e) {
    const lines = wims.logs().split('\n');
    process.stderr.write(`---- wims log (last 200 lines) ----\n${lines.slice(-200).join('\n')}\n---- end ----\n`);
    throw e;
  }
}

test('@aws-sdk/credential-providers get the pod role from wims', async (t) => {
  cleanSdkEnv();
  const wims = await startWims();
  t.after(() => wims.stop());
  const stsUrl = wims.ready.endpoints.aws_sts;
  const { fromInstanceMetadata, fromContainerMetadata, fromHttp } = require('@aws-sdk/credential-providers');

  await t.test('fromInstanceMetadata (IMDSv2)', () => withLogs(wims, async () => {
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = `http://${wims.ready.metadata}`;
    try {
      const creds = await fromInstanceMetadata({ timeout: 5000, maxRetries: 1 })();
      assertCredentials(creds);
      assert.ok((await callerArn(stsUrl, creds)).startsWith(ASSUMED_ROLE_PREFIX));
    } finally {
      delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
    }
  }));

  await t.test('fromInstanceMetadata with AWS_EC2_METADATA_V1_DISABLED', () => withLogs(wims, async () => {
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = `http://${wims.ready.metadata}`;
    process.env.AWS_EC2_METADATA_V1_DISABLED = 'true';
    try {
      const creds = await fromInstanceMetadata({ timeout: 5000, maxRetries: 1 })();
      assertCredentials(creds);
      assert.ok((await callerArn(stsUrl, creds)).startsWith(ASSUMED_ROLE_PREFIX));
    } finally {
      delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
      delete process.env.AWS_EC2_METADATA_V1_DISABLED;
    }
  }));

  await t.test('fromHttp and fromContainerMetadata (container-credentials endpoint)', () => withLogs(wims, async () => {
    const token = podToken(wims, POD_IDENTITY_AUDIENCE);
    const tokenFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wims-aws-')), 'token');
    fs.writeFileSync(tokenFile, token);
    const uri = `http://${wims.ready.metadata}/v1/credentials`;
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = uri;
    process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = tokenFile;
    try {
      const viaHttp = await fromHttp({ timeout: 5000, maxRetries: 1 })();
      assertCredentials(viaHttp);
      assert.ok((await callerArn(stsUrl, viaHttp)).startsWith(ASSUMED_ROLE_PREFIX));

      // fromContainerMetadata reads the token from AWS_CONTAINER_AUTHORIZATION_TOKEN only.
      delete process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
      process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = token;
      const viaContainer = await fromContainerMetadata({ timeout: 5000, maxRetries: 1 })();
      assertCredentials(viaContainer);
      assert.ok((await callerArn(stsUrl, viaContainer)).startsWith(ASSUMED_ROLE_PREFIX));
    } finally {
      delete process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
      delete process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
      delete process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
    }
  }));
});

// A GET on the metadata server without a token: { status, text }.
function imdsGet(wims, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`http://${wims.ready.metadata}${path}`, { method: 'GET', headers, timeout: 10000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => { text += chunk; });
        res.on('end', () => resolve({ status: res.statusCode, text }));
      });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

// Sets `vars` in process.env for the duration of `fn`.
async function withEnv(vars, fn) {
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(vars)) delete process.env[k];
  }
}

// The statuses wims's access log recorded for `method path` on the metadata listener, oldest first.
function accessStatuses(wims, method, pathName) {
  const out = [];
  for (const line of wims.logs().split('\n')) {
    const start = line.indexOf('{"access":"metadata"');
    if (start < 0) continue;
    const entry = JSON.parse(line.slice(start));
    if (entry.method === method && entry.path === pathName) out.push(entry.status);
  }
  return out;
}

const TOKEN_PATH = '/latest/api/token';
const CREDENTIALS_PATH = '/latest/meta-data/iam/security-credentials/wims-demo';

test('wims up --imds-tokens disabled: v1 fallback, refused under AWS_EC2_METADATA_V1_DISABLED', async (t) => {
  cleanSdkEnv();
  const wims = await startWims(['--imds-tokens', 'disabled']);
  t.after(() => wims.stop());
  const stsUrl = wims.ready.endpoints.aws_sts;
  const { fromInstanceMetadata } = require('@aws-sdk/credential-providers');
  const endpoint = { AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://${wims.ready.metadata}` };

  await t.test('fromInstanceMetadata falls back to IMDSv1 after the token PUT answers 403', () => withLogs(wims,
    () => withEnv(endpoint, async () => {
      const puts = accessStatuses(wims, 'PUT', TOKEN_PATH).length;
      const creds = await fromInstanceMetadata({ timeout: 5000, maxRetries: 1 })();
      assertCredentials(creds);
      assert.ok((await callerArn(stsUrl, creds)).startsWith(ASSUMED_ROLE_PREFIX));
      assert.deepStrictEqual(accessStatuses(wims, 'PUT', TOKEN_PATH).slice(puts), [403]);
    })));

  for (const [name, env, init] of [
    ['AWS_EC2_METADATA_V1_DISABLED=true', { AWS_EC2_METADATA_V1_DISABLED: 'true' }, {}],
    ['ec2MetadataV1Disabled: true', {}, { ec2MetadataV1Disabled: true }],
  ]) {
    await t.test(`fromInstanceMetadata with ${name} refuses to fall back`, () => withLogs(wims,
      () => withEnv({ ...endpoint, ...env }, async () => {
        const gets = accessStatuses(wims, 'GET', CREDENTIALS_PATH).length;
        await assert.rejects(fromInstanceMetadata({ timeout: 5000, maxRetries: 1, ...init })(), (e) => {
          assert.strictEqual(e.name, 'InstanceMetadataV1FallbackError', `${e.name}: ${e.message}`);
          assert.match(e.message, /v1 fallback has been blocked/);
          return true;
        });
        // It never asked for credentials without a token.
        assert.strictEqual(accessStatuses(wims, 'GET', CREDENTIALS_PATH).length, gets);
      })));
  }
});

test('wims up --imds-tokens required: a v1 GET is 401, the SDK uses IMDSv2', async (t) => {
  cleanSdkEnv();
  const wims = await startWims(['--imds-tokens', 'required']);
  t.after(() => wims.stop());
  const stsUrl = wims.ready.endpoints.aws_sts;
  const { fromInstanceMetadata } = require('@aws-sdk/credential-providers');

  await t.test('tokenless GET', () => withLogs(wims, async () => {
    const res = await imdsGet(wims, '/latest/meta-data/iam/security-credentials/');
    assert.strictEqual(res.status, 401, res.text);
  }));

  for (const v1Disabled of ['false', 'true']) {
    await t.test(`fromInstanceMetadata (AWS_EC2_METADATA_V1_DISABLED=${v1Disabled})`, () => withLogs(wims,
      () => withEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://${wims.ready.metadata}`,
        AWS_EC2_METADATA_V1_DISABLED: v1Disabled }, async () => {
        const gets = accessStatuses(wims, 'GET', CREDENTIALS_PATH).length;
        const creds = await fromInstanceMetadata({ timeout: 5000, maxRetries: 1 })();
        assertCredentials(creds);
        assert.ok((await callerArn(stsUrl, creds)).startsWith(ASSUMED_ROLE_PREFIX));
        assert.deepStrictEqual(accessStatuses(wims, 'GET', CREDENTIALS_PATH).slice(gets), [200]);
      })));
  }
});

test('wims up --metadata-addr [::1]:0: fromInstanceMetadata over IPv6', async (t) => {
  cleanSdkEnv();
  const wims = await startWims([], { metadataAddr: '[::1]:0' });
  t.after(() => wims.stop());
  const { fromInstanceMetadata } = require('@aws-sdk/credential-providers');
  await withLogs(wims, () => withEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://${wims.ready.metadata}`,
    AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv6' }, async () => {
    assert.match(wims.ready.metadata, /^\[::1\]:\d+$/);
    const creds = await fromInstanceMetadata({ timeout: 5000, maxRetries: 1 })();
    assertCredentials(creds);
    assert.ok((await callerArn(wims.ready.endpoints.aws_sts, creds)).startsWith(ASSUMED_ROLE_PREFIX));
  }));
});
