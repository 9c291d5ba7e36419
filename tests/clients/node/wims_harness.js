// Starts the real `wims up` binary on loopback port 0 and reads its ready file (see ../python/wims_harness.py).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const READY_TIMEOUT_MS = 30000;

// `extraArgs` are appended to `wims up` (e.g. ['--imds-tokens', 'required']); `metadataAddr` is the metadata
// listener (e.g. '[::1]:0' for the IPv6 endpoint).
async function startWims(extraArgs = [], { metadataAddr = '127.0.0.1:0' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wims-node-test-'));
  const readyFile = path.join(dir, 'ready.json');
  const logPath = path.join(dir, 'wims.log');
  const log = fs.openSync(logPath, 'w');
  const args = ['up', '--metadata-addr', metadataAddr, '--cloud-addr', '127.0.0.1:0', '--admin-addr', '127.0.0.1:0',
    '--state-dir', path.join(dir, 'state'), '--ready-file', readyFile, ...extraArgs];
  const proc = spawn(process.env.WIMS_BIN, args, { stdio: ['ignore', log, log] });
  let exited = false;
  proc.on('exit', () => { exited = true; });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!fs.existsSync(readyFile)) {
    if (exited || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error('wims did not become ready:\n' + fs.readFileSync(logPath, 'utf8'));
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const ready = JSON.parse(fs.readFileSync(readyFile, 'utf8'));
  return {
    ready,
    // wims's log so far (stdout and stderr), for failure messages.
    logs() {
      return fs.readFileSync(logPath, 'utf8');
    },
    async stop() {
      if (!exited) {
        const done = new Promise((r) => proc.on('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([done, new Promise((r) => setTimeout(r, 15000))]);
        if (!exited) proc.kill('SIGKILL');
      }
      fs.closeSync(log);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Removes credentials an SDK could pick up instead of the metadata server.
function cleanSdkEnv() {
  for (const k of Object.keys(process.env)) {
    if (/^(GOOGLE_|GCLOUD_|CLOUDSDK_|AWS_|AZURE_|IDENTITY_|MSI_|IMDS_|GCE_METADATA)/.test(k)) delete process.env[k];
  }
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'wims-home-'));
  process.env.HOME = home;
  process.env.CLOUDSDK_CONFIG = path.join(home, 'gcloud');
}

module.exports = { startWims, cleanSdkEnv };
