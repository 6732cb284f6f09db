'use strict';
// watchModels against an in-process gRPC server that plays a script of streams: each stream
// the helper opens gets the next entry (the events to send, then how the stream ends: a
// status code, or held open until the client cancels), and every request is recorded, so the
// tests see what each reconnect carried.
//
//   cd clients/node && npm ci && node --test test/

const { test } = require('node:test');
const assert = require('node:assert/strict');
const mc = require('..');

const { grpc } = mc;
const HELD = 'held open until the client cancels';
const V1 = '00000000000000a1';
const V2 = '00000000000000a2';

const modelEvent = (type, id, version = '', token = '', resync = false) => ({
  type: `WATCH_EVENT_TYPE_${type}`, model_id: id, model: { id }, model_version: version, resume_token: token, resync,
});
const marker = (token, resync = false) => ({ type: 'WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE', resume_token: token, resync });

// Starts a server playing `script`; resolves with { requests, cancelled, catalog, stop }.
async function serve(script) {
  const requests = [];
  let onCancel = () => {};
  const cancelled = new Promise((resolve) => { onCancel = resolve; });
  const server = new grpc.Server();
  server.addService(mc.ModelCatalogService.service, {
    WatchModels(call) {
      requests.push(call.request);
      const [events, end] = script.shift() || [[], grpc.status.FAILED_PRECONDITION];
      events.forEach((e) => call.write(e));
      if (end === HELD) {
        call.on('cancelled', onCancel);
      } else if (end === grpc.status.OK) {
        call.end();
      } else {
        call.emit('error', { code: end, details: `scripted ${grpc.status[end]}` });
      }
    },
  });
  const port = await new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  const clients = mc.connect(`127.0.0.1:${port}`);
  return {
    requests,
    cancelled,
    catalog: clients.catalog,
    stop: () => { clients.close(); server.forceShutdown(); },
  };
}

test('watchModels reconnects with the token and the versions held', async () => {
  const fake = await serve([
    // A fresh start, then a live change; the replica goes away.
    [[modelEvent('INITIAL', 'a', V1), modelEvent('INITIAL', 'b', V1), marker('t1'),
      modelEvent('CHANGED', 'a', V2, 't2')], grpc.status.UNAVAILABLE],
    // Another replica: what differs from the versions held, without tokens, then its marker.
    [[modelEvent('REMOVED', 'b'), modelEvent('ADDED', 'c', V1), marker('t3')], grpc.status.UNAVAILABLE],
    [[{ type: 'WATCH_EVENT_TYPE_PROGRESS', resume_token: 't4' }, modelEvent('CHANGED', 'c', V2, 't5')],
      grpc.status.INVALID_ARGUMENT],
  ]);
  try {
    const seen = [];
    const watch = mc.watchModels(fake.catalog, { filter: 'capabilities.output:image', view: 'MODEL_VIEW_BASIC', initialBackoffMs: 1 });
    await assert.rejects(async () => {
      for await (const event of watch) {
        seen.push([event.type.replace('WATCH_EVENT_TYPE_', ''), event.model_id, watch.knownVersions, watch.resumeToken]);
      }
    }, (err) => err.code === grpc.status.INVALID_ARGUMENT);
    assert.deepEqual(seen, [
      ['INITIAL', 'a', { a: V1 }, ''],
      ['INITIAL', 'b', { a: V1, b: V1 }, ''],
      ['INITIAL_STATE_COMPLETE', '', { a: V1, b: V1 }, 't1'],
      ['CHANGED', 'a', { a: V2, b: V1 }, 't2'],
      // t2 leads elsewhere than the state these events make: only the versions tell it.
      ['REMOVED', 'b', { a: V2 }, ''],
      ['ADDED', 'c', { a: V2, c: V1 }, ''],
      ['INITIAL_STATE_COMPLETE', '', { a: V2, c: V1 }, 't3'],
      ['PROGRESS', '', { a: V2, c: V1 }, 't4'],
      ['CHANGED', 'c', { a: V2, c: V2 }, 't5'],
    ]);
    assert.deepEqual(fake.requests.map((r) => [r.resume_token, r.known_versions]), [
      ['', {}],
      ['t2', { a: V2, b: V1 }],
      ['t3', { a: V2, c: V1 }],
    ]);
    for (const r of fake.requests) {
      assert.equal(r.filter, 'capabilities.output:image');
      assert.equal(r.view, 'MODEL_VIEW_BASIC');
    }
  } finally {
    fake.stop();
  }
});

test('a stream cut before its marker resumes from the versions it got; leaving the loop cancels', async () => {
  const fake = await serve([
    [[modelEvent('INITIAL', 'a', V1), modelEvent('INITIAL', 'b', V1)], grpc.status.UNAVAILABLE],
    [[modelEvent('ADDED', 'c', V1), marker('t1')], HELD],
  ]);
  try {
    const watch = mc.watchModels(fake.catalog, { initialBackoffMs: 1 });
    for await (const event of watch) {
      if (event.type === 'WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE') break;
    }
    await fake.cancelled;
    assert.deepEqual(fake.requests.map((r) => [r.resume_token, r.known_versions]),
      [['', {}], ['', { a: V1, b: V1 }]]);
    assert.deepEqual(watch.knownVersions, { a: V1, b: V1, c: V1 });
    assert.equal(watch.resumeToken, 't1');
  } finally {
    fake.stop();
  }
});

test('watchModels starts from the caller\'s versions and token, and a resync replaces them', async () => {
  const fake = await serve([
    [[modelEvent('CHANGED', 'a', V2), marker('t1')], grpc.status.UNAVAILABLE],
    [[modelEvent('INITIAL', 'x', V1, '', true), marker('t2', true)], grpc.status.UNAVAILABLE],
    // A resync of no models at all: its marker alone.
    [[marker('t3', true)], grpc.status.OK],
  ]);
  try {
    const held = new Map([['a', V1], ['b', V1]]);
    const watch = mc.watchModels(fake.catalog, { resumeToken: 't0', knownVersions: held, initialBackoffMs: 1 });
    const after = [];
    for await (const event of watch) after.push([event.type.replace('WATCH_EVENT_TYPE_', ''), watch.knownVersions]);
    assert.deepEqual(after, [
      ['CHANGED', { a: V2, b: V1 }],
      ['INITIAL_STATE_COMPLETE', { a: V2, b: V1 }],
      ['INITIAL', { x: V1 }],
      ['INITIAL_STATE_COMPLETE', { x: V1 }],
      ['INITIAL_STATE_COMPLETE', {}],
    ]);
    assert.deepEqual(fake.requests.map((r) => [r.resume_token, r.known_versions]),
      [['t0', { a: V1, b: V1 }], ['t1', { a: V2, b: V1 }], ['t2', { x: V1 }]]);
    assert.deepEqual([...held], [['a', V1], ['b', V1]], 'the caller\'s Map was changed');
  } finally {
    fake.stop();
  }
});

test('close() ends a loop that is waiting for the next event', async () => {
  const fake = await serve([[[marker('t1')], HELD]]);
  try {
    const watch = mc.watchModels(fake.catalog);
    const got = [];
    const loop = (async () => { for await (const event of watch) got.push(event.type); })();
    while (got.length === 0) await new Promise((r) => setTimeout(r, 10));
    await watch.close();
    await loop;
    await fake.cancelled;
    assert.deepEqual(got, ['WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE']);
  } finally {
    fake.stop();
  }
});

test('watchModels refuses bad arguments before any call', () => {
  for (const [options, message] of [
    [{ knownVersions: [['a', V1]] }, /not an array/],
    [{ knownVersions: { a: 1 } }, /not a: number/],
    [{ knownVersions: 'a' }, /not "a"/],
    [{ filter: 3 }, /filter must be a string/],
    [{ resumeToken: null }, /resumeToken must be a string/],
  ]) {
    assert.throws(() => mc.watchModels(null, options), message, JSON.stringify(options));
  }
});
