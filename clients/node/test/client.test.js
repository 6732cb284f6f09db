'use strict';
// Tests of the Node.js client against real servers: build/bin/hub-emulator (the bundled
// sample catalog) and build/bin/catalog-server on free ports. MODEL_CATALOG_BIN_DIR names
// the folder of the binaries (default: the repository's build/bin).
//
//   cd clients/node && npm ci && node --test test/

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const mc = require('..');

const REPO = path.resolve(__dirname, '..', '..', '..');
const BIN_DIR = process.env.MODEL_CATALOG_BIN_DIR || path.join(REPO, 'build', 'bin');

// Starts a binary that prints "<name> listening on <address>" once bound.
function startProcess(binary, args) {
  // A free port for the metrics listener, not the default 9090 every server would share.
  const env = { ...process.env, MODEL_CATALOG_METRICS_LISTEN: '127.0.0.1:0',
    MODEL_CATALOG_HTTP_LISTEN: '127.0.0.1:0' };
  const child = spawn(path.join(BIN_DIR, binary), args, { stdio: ['ignore', 'pipe', 'ignore'], env });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${binary} did not start`)); }, 20000);
    child.once('exit', (code) => reject(new Error(`${binary} exited with ${code}`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      if (!line.includes(' listening on ')) return reject(new Error(`${binary}: ${line}`));
      resolve({ child, address: line.split(' listening on ')[1].trim() });
    });
  });
}

function stopProcess({ child }) {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

let tmp;
let hub;
let server;
let clients;
let hubIds;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-catalog-node-'));
  const keyFile = path.join(tmp, 'hub.key');
  fs.writeFileSync(keyFile, 'node-client-test-key\n');
  hub = await startProcess('hub-emulator', ['--listen=127.0.0.1:0', `--api_key_file=${keyFile}`]);
  server = await startProcess('catalog-server', [
    '--listen=127.0.0.1:0', `--hub_url=${hub.address}/api/ai`, `--hub_api_key_file=${keyFile}`,
    '--sync_interval=1h', '--shutdown_grace=1s']);
  clients = mc.connect(`127.0.0.1:${server.address.split(':').pop()}`);
  await mc.waitForServing(clients.health);
  const response = await fetch(`${hub.address}/_control/models`);
  hubIds = (await response.json()).data.map((m) => m.id).sort();
});

after(async () => {
  if (clients) clients.close();
  if (server) assert.equal(await stopProcess(server), 0);
  if (hub) await stopProcess(hub);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function collect(iterable) {
  const out = [];
  for await (const x of iterable) out.push(x);
  return out;
}

test('iterModels follows every page in id order', async () => {
  const models = await collect(mc.iterModels(clients.catalog, {}, { pageSize: 3, timeoutMs: 5000 }));
  assert.deepEqual(models.map((m) => m.id), hubIds);
  assert.ok(hubIds.length > 3);
});

test('iterModels passes filters', async () => {
  const models = await collect(mc.iterModels(clients.catalog, { developer_name: 'acme' }, { pageSize: 1 }));
  assert.deepEqual(models.map((m) => m.id), ['acme-illustrator', 'acme-support-bot']);
});

test('iterSearch pages through ranked results with Unicode case folding', async () => {
  const all = await collect(mc.iterSearch(clients.catalog, 'a', { pageSize: 1000 }));
  const paged = await collect(mc.iterSearch(clients.catalog, 'a', { pageSize: 2 }));
  assert.deepEqual(paged.map((m) => m.id), all.map((m) => m.id));
  assert.ok(paged.length > 2);
  const greek = await collect(mc.iterSearch(clients.catalog, 'ερμής'));
  assert.ok(greek.some((m) => m.display_name === 'Ερμής Ωμέγα'), JSON.stringify(greek.map((m) => m.display_name)));
});

test('GetModel returns NOT_FOUND with the hub\'s message', async () => {
  await assert.rejects(mc.call(clients.catalog, 'GetModel', { id: 'no-such-model' }), (err) => {
    assert.equal(err.code, mc.grpc.status.NOT_FOUND);
    assert.equal(err.details, 'Model not found: no-such-model');
    return true;
  });
});

test('GetSyncStatus reports the source and the model count', async () => {
  const status = await mc.call(clients.catalog, 'GetSyncStatus', {});
  assert.equal(status.source, `${hub.address}/api/ai`);
  assert.equal(status.model_count, String(hubIds.length));
});

test('watch starts with INITIAL events and a marker', async () => {
  const events = [];
  for await (const event of mc.watch(clients.catalog, ['acme-support-bot', 'acme-illustrator'])) {
    events.push(event);
    if (event.type === 'WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE') break;
  }
  const initial = events.filter((e) => e.type === 'WATCH_EVENT_TYPE_INITIAL');
  assert.deepEqual(initial.map((e) => e.model_id).sort(), ['acme-illustrator', 'acme-support-bot']);
  assert.equal(initial.find((e) => e.model_id === 'acme-support-bot').status, 'DEPLOYMENT_STATUS_ACTIVE');
  assert.ok(events.at(-1).resume_token);
});

test('a bearer token is sent with every call', async () => {
  const tokens = path.join(tmp, 'tokens');
  fs.writeFileSync(tokens, 'full-token\nread-token read\n');
  const authServer = await startProcess('catalog-server', [
    '--listen=127.0.0.1:0', `--hub_url=${hub.address}/api/ai`, `--hub_api_key_file=${path.join(tmp, 'hub.key')}`,
    `--auth_tokens_file=${tokens}`, '--sync_interval=1h', '--shutdown_grace=1s']);
  const target = `127.0.0.1:${authServer.address.split(':').pop()}`;
  const anonymous = mc.connect(target);
  const full = mc.connect(target, { token: 'full-token' });
  const read = mc.connect(target, { token: 'read-token' });
  try {
    await mc.waitForServing(anonymous.health); // health stays open
    await assert.rejects(collect(mc.iterModels(anonymous.catalog)),
      (err) => err.code === mc.grpc.status.UNAUTHENTICATED);
    const models = await collect(mc.iterModels(full.catalog, {}, { pageSize: 5 }));
    assert.deepEqual(models.map((m) => m.id), hubIds);
    for await (const event of mc.watch(full.catalog, ['acme-support-bot'])) {
      assert.equal(event.type, 'WATCH_EVENT_TYPE_INITIAL');
      break;
    }
    await assert.rejects(mc.call(read.catalog, 'ActivateModel', { id: 'acme-illustrator' }),
      (err) => err.code === mc.grpc.status.PERMISSION_DENIED);
  } finally {
    anonymous.close();
    full.close();
    read.close();
    assert.equal(await stopProcess(authServer), 0);
  }
});

test('the example lists every model', async () => {
  const target = `127.0.0.1:${server.address.split(':').pop()}`;
  const { stdout, stderr } = await new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(__dirname, '..', 'examples', 'list-models.js'), `--server=${target}`],
      { timeout: 30000 }, (err, out, errOut) => (err ? reject(err) : resolve({ stdout: out, stderr: errOut })));
  });
  assert.deepEqual(stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]), hubIds);
  assert.match(stderr, new RegExp(`^${hubIds.length} models`));
});

test('watch reconnects on UNAVAILABLE with the last resume token and throws other errors', async () => {
  const { Readable } = require('node:stream');
  const failure = (code) => Object.assign(new Error(mc.grpc.status[code]), { code });
  const script = [
    [[{ type: 'WATCH_EVENT_TYPE_INITIAL', resume_token: '' },
      { type: 'WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE', resume_token: 't1' },
      { type: 'WATCH_EVENT_TYPE_CHANGED', resume_token: 't2' }], mc.grpc.status.UNAVAILABLE],
    [[], mc.grpc.status.UNAVAILABLE],
    [[{ type: 'WATCH_EVENT_TYPE_CHANGED', resume_token: 't3' }], mc.grpc.status.INVALID_ARGUMENT],
  ];
  const requests = [];
  const fake = {
    WatchDeployments(request) {
      const [events, code] = script[requests.length];
      requests.push(request);
      const stream = new Readable({ objectMode: true, read() {} });
      events.forEach((e) => stream.push(e));
      setImmediate(() => stream.destroy(failure(code)));
      stream.cancel = () => {};
      return stream;
    },
  };
  const tokens = [];
  await assert.rejects(async () => {
    for await (const event of mc.watch(fake, ['m'], { resumeToken: 't0', initialBackoffMs: 1 })) {
      tokens.push(event.resume_token);
    }
  }, (err) => err.code === mc.grpc.status.INVALID_ARGUMENT);
  assert.deepEqual(requests.map((r) => r.resume_token), ['t0', 't2', 't2']);
  assert.deepEqual(requests[0].model_ids, ['m']);
  assert.deepEqual(tokens, ['', 't1', 't2', 't3']);
});
