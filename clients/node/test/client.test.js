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

// The image models of the hub emulator's sample catalog, and their order by price.
const IMAGE_MODELS = 'capabilities.output:image';
const BY_PRICE = 'pricing.cost_per_image';

// Every model in FULL view, from an unfiltered listing.
async function fullListing() {
  const models = await collect(mc.iterModels(clients.catalog, { view: 'MODEL_VIEW_FULL' }, { pageSize: 1000 }));
  assert.deepEqual(models.map((m) => m.id), hubIds);
  return models;
}

// Models without a price per image come after every model with one; ties in id order.
const hasPrice = (m) => m.pricing !== null && m.pricing.cost_per_image !== undefined;
function byPriceThenId(a, b) {
  if (hasPrice(a) !== hasPrice(b)) return hasPrice(a) ? -1 : 1;
  if (hasPrice(a) && a.pricing.cost_per_image !== b.pricing.cost_per_image) {
    return a.pricing.cost_per_image - b.pricing.cost_per_image;
  }
  return a.id < b.id ? -1 : Number(a.id > b.id);
}

// The image models in FULL view, cheapest first, computed here from a full listing.
async function imageModelsByPrice() {
  return (await fullListing()).filter((m) => m.capabilities.output.includes('image')).sort(byPriceThenId);
}

const isBasic = (m) => !('description' in m) && m.request_schema === null;

test('the three cheapest image models: filtered, ordered, one page in BASIC view', async () => {
  const expected = await imageModelsByPrice();
  assert.ok(expected.length > 3);
  // The BASIC view below has something to leave out.
  assert.ok(expected.slice(0, 3).some((m) => 'description' in m));
  assert.ok(expected.slice(0, 3).some((m) => m.request_schema !== null));
  const response = await mc.call(clients.catalog, 'ListModels', {
    filter: IMAGE_MODELS, order_by: BY_PRICE, page_size: 3, view: 'MODEL_VIEW_BASIC',
  }, { timeoutMs: 10000 });
  assert.deepEqual(response.models.map((m) => m.id), expected.slice(0, 3).map((m) => m.id));
  assert.equal(response.total_size, expected.length);
  assert.ok(response.next_page_token);
  response.models.forEach((m, i) => {
    assert.ok(isBasic(m), m.id);
    assert.deepEqual(m.pricing, expected[i].pricing);
  });
});

test('the cheapest-image-models example prints them', async () => {
  const expected = await imageModelsByPrice();
  const target = `127.0.0.1:${server.address.split(':').pop()}`;
  const { stdout, stderr } = await new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(__dirname, '..', 'examples', 'cheapest-image-models.js'), `--server=${target}`],
      { timeout: 30000 }, (err, out, errOut) => (err ? reject(err) : resolve({ stdout: out, stderr: errOut })));
  });
  assert.deepEqual(stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]), expected.slice(0, 3).map((m) => m.id));
  assert.match(stderr, new RegExp(`^3 of ${expected.length} image models`));
});

test('iterModels sends filter, order_by and view with every page', async () => {
  const expected = await imageModelsByPrice();
  const models = await collect(mc.iterModels(clients.catalog,
    { filter: IMAGE_MODELS, order_by: BY_PRICE, view: 'MODEL_VIEW_FULL' }, { pageSize: 2 }));
  assert.deepEqual(models.map((m) => m.id), expected.map((m) => m.id));
  assert.deepEqual(models, expected); // FULL: every field, description included
});

test('a page token is only valid for its query', async () => {
  const first = await mc.call(clients.catalog, 'ListModels', { filter: IMAGE_MODELS, order_by: BY_PRICE, page_size: 2 });
  assert.ok(first.next_page_token);
  await assert.rejects(
    mc.call(clients.catalog, 'ListModels', { order_by: BY_PRICE, page_size: 2, page_token: first.next_page_token }),
    (err) => err.code === mc.grpc.status.INVALID_ARGUMENT);
});

test('iterSearch sends filter and view with every page', async () => {
  const ranked = await collect(mc.iterSearch(clients.catalog, { query: 'a', view: 'MODEL_VIEW_FULL' }, { pageSize: 1000 }));
  const expected = ranked.filter((m) => m.capabilities.output.includes('image'));
  assert.ok(expected.length > 2 && expected.length < ranked.length);
  assert.ok(expected.some((m) => 'description' in m));
  const models = await collect(mc.iterSearch(clients.catalog,
    { query: 'a', filter: IMAGE_MODELS, view: 'MODEL_VIEW_FULL' }, { pageSize: 1 }));
  assert.deepEqual(models, expected); // relevance order, FULL view
  const basic = await collect(mc.iterSearch(clients.catalog, { query: 'a', filter: IMAGE_MODELS }, { pageSize: 1 }));
  assert.deepEqual(basic.map((m) => m.id), expected.map((m) => m.id));
  assert.ok(basic.every(isBasic));
});

test('batchGetModels keeps the order asked, duplicates included', async () => {
  const full = new Map((await fullListing()).map((m) => [m.id, m]));
  const ids = ['qwen-image-max', 'flux-2-dev', 'acme-support-bot', 'qwen-image-max'];
  const models = await mc.batchGetModels(clients.catalog, ids, {}, { timeoutMs: 10000 });
  assert.deepEqual(models.map((m) => m.id), ids);
  assert.deepEqual(models, ids.map((id) => full.get(id))); // FULL by default
  assert.ok('description' in models[1]);
  const basic = await mc.batchGetModels(clients.catalog, ids, { view: 'MODEL_VIEW_BASIC' });
  assert.deepEqual(basic.map((m) => m.id), ids);
  assert.ok(basic.every(isBasic));
});

test('batchGetModels is all or nothing', async () => {
  await assert.rejects(mc.batchGetModels(clients.catalog, ['flux-2-dev', 'no-such-model', 'nor-this-one']), (err) => {
    assert.equal(err.code, mc.grpc.status.NOT_FOUND);
    assert.equal(err.details, 'Model not found: no-such-model');
    return true;
  });
  await assert.rejects(mc.batchGetModels(clients.catalog, []),
    (err) => err.code === mc.grpc.status.INVALID_ARGUMENT);
});

test('a filter that does not parse is INVALID_ARGUMENT', async () => {
  const filter = 'capabilities.output:image AND (';
  const calls = {
    ListModels: () => mc.call(clients.catalog, 'ListModels', { filter }),
    iterModels: () => collect(mc.iterModels(clients.catalog, { filter })),
    iterSearch: () => collect(mc.iterSearch(clients.catalog, { query: 'a', filter })),
  };
  for (const [name, fn] of Object.entries(calls)) {
    await assert.rejects(fn(), (err) => {
      assert.equal(err.code, mc.grpc.status.INVALID_ARGUMENT, name);
      assert.ok(err.details.startsWith('filter: '), `${name}: ${err.details}`);
      return true;
    }, name);
  }
});

test('estimateCost is exact and names what it refuses', async () => {
  const [claude, mini] = await mc.estimateCost(clients.catalog, ['claude-sonnet-4-6', 'gpt-5-mini'],
    { input_tokens: 1000000, output_tokens: 200000 }, { timeoutMs: 10000 });
  assert.equal(claude.total, '6');
  assert.equal(mini.total, '0.65'); // 0.6499999999999999 in Number arithmetic
  assert.deepEqual(mini.lines.map((l) => [l.price_field, l.amount]),
    [['input_cost_per_token', '0.25'], ['output_cost_per_token', '0.4']]);
  await assert.rejects(mc.estimateCost(clients.catalog, ['gemini-2-5-flash'], { input_tokens: 10 }), (err) => {
    assert.equal(err.code, mc.grpc.status.FAILED_PRECONDITION);
    assert.match(err.details, /pricing\.input_cost_per_token/);
    return true;
  });
  await assert.rejects(mc.estimateCost(clients.catalog, ['flux-2-dev'], { images: -1 }), (err) => {
    assert.equal(err.code, mc.grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /usage\.images/);
    return true;
  });
});

test('iterCheapest lists priced models cheapest first over every page', async () => {
  const found = await collect(mc.iterCheapest(clients.catalog, 'capabilities.output:image', { images: 4 }, { pageSize: 1 }));
  assert.deepEqual([found[0].model_id, found[0].total], ['flux-2-dev', '0.1']);
  const cents = found.map((e) => Math.round(Number(e.total) * 100));
  assert.deepEqual(cents, [...cents].sort((a, b) => a - b));
});

test('validateRequest reports the pointer, keyword and message of each violation', async () => {
  const answer = await mc.validateRequest(clients.catalog, 'flux-2-dev', { prompt: 'a fox', num_images: 9 });
  assert.equal(answer.valid, false);
  assert.deepEqual(answer.violations.map((v) => [v.pointer, v.keyword, v.message]),
    [['/num_images', 'maximum', 'must be at most 4, got 9']]);
  assert.equal((await mc.validateRequest(clients.catalog, 'flux-2-dev', { prompt: 'a fox' })).valid, true);
  await assert.rejects(mc.validateRequest(clients.catalog, 'flux-2-dev', '{not json'),
    (err) => err.code === mc.grpc.status.INVALID_ARGUMENT);
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
