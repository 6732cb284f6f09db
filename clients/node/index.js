'use strict';
// Node.js client of model-catalog's ModelCatalogService.
//
//   const mc = require('@model-catalog/client');
//   const { catalog, health, close } = mc.connect('localhost:50051');
//   for await (const model of mc.iterModels(catalog, { developer_name: 'anthropic' })) {
//     console.log(model.id, model.display_name);
//   }
//   const cheapest = mc.iterModels(catalog, { filter: 'capabilities.output:image',
//     order_by: 'pricing.cost_per_image', view: 'MODEL_VIEW_FULL' });
//   const models = await mc.batchGetModels(catalog, ['flux-2-dev', 'qwen-image-max']);
//   const watch = mc.watchModels(catalog, { filter: 'capabilities.output:image' });
//   for await (const event of watch) console.log(event.type, event.model_id, watch.knownVersions);
//   close();
//
// The .proto files are loaded at run time with @grpc/proto-loader: nothing is generated.
// Messages are plain objects with the proto's field names (snake_case), enums as their
// names ('WATCH_EVENT_TYPE_INITIAL'), int64 as strings, Timestamps as {seconds, nanos}.
// The shared gRPC service config (../service_config.json) is applied to every channel.

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

// First a copy packed beside this file, then the repository's.
function firstExisting(...candidates) {
  return candidates.find((p) => p && fs.existsSync(p));
}

const PROTO_DIR = firstExisting(
  process.env.MODEL_CATALOG_PROTO_DIR,
  path.join(__dirname, 'proto'),
  path.join(__dirname, '..', '..', 'proto'));
// The standard health protocol; Debian's grpc-proto package installs it here.
const GRPC_PROTO_DIR = firstExisting(
  process.env.MODEL_CATALOG_GRPC_PROTO_DIR,
  path.join(__dirname, 'grpc-proto'),
  '/usr/share/grpc-proto');
const SERVICE_CONFIG_PATH = firstExisting(
  path.join(__dirname, 'service_config.json'),
  path.join(__dirname, '..', 'service_config.json'));
if (!PROTO_DIR || !GRPC_PROTO_DIR || !SERVICE_CONFIG_PATH) {
  throw new Error('model-catalog client: proto/, grpc/health/v1/health.proto or service_config.json not found');
}

const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR, GRPC_PROTO_DIR],
};

const packageDefinition = protoLoader.loadSync(
  ['modelcatalog/v1/catalog_service.proto', 'grpc/health/v1/health.proto'], LOADER_OPTIONS);
const loaded = grpc.loadPackageDefinition(packageDefinition);

/** The service constructors: new ModelCatalogService(target, credentials, options). */
const ModelCatalogService = loaded.modelcatalog.v1.ModelCatalogService;
const Health = loaded.grpc.health.v1.Health;

/** The shared service config as JSON text: timeouts, retries of reads, round robin. */
const SERVICE_CONFIG = JSON.stringify(JSON.parse(fs.readFileSync(SERVICE_CONFIG_PATH, 'utf8')));

/** An interceptor sending `authorization: Bearer <token>` with every call. */
function bearerToken(token) {
  return (options, nextCall) => new grpc.InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set('authorization', `Bearer ${token}`);
      next(metadata, listener);
    },
  });
}

/**
 * Connects to `target` ("host:port", "dns:///host:port") with the shared service config.
 * Both clients share one channel. Plaintext unless `credentials` are given. `token` is
 * sent as a bearer token with every call (servers run with --auth_tokens_file require it;
 * it travels in the clear on a plaintext channel: use TLS beyond the pod network).
 * Returns { catalog, health, close }.
 */
function connect(target, { credentials = grpc.credentials.createInsecure(), options = {}, token } = {}) {
  const channelOptions = { 'grpc.service_config': SERVICE_CONFIG, 'grpc.enable_retries': 1, ...options };
  if (token) channelOptions.interceptors = [...(channelOptions.interceptors || []), bearerToken(token)];
  const catalog = new ModelCatalogService(target, credentials, channelOptions);
  const health = new Health(target, credentials, {
    ...channelOptions,
    channelOverride: catalog.getChannel(),
  });
  return { catalog, health, close: () => catalog.close() };
}

/** Calls a unary method and resolves with its response; `timeoutMs` sets a deadline. */
function call(client, method, request, { timeoutMs, metadata = new grpc.Metadata() } = {}) {
  const callOptions = timeoutMs ? { deadline: new Date(Date.now() + timeoutMs) } : {};
  return new Promise((resolve, reject) => {
    client[method](request, metadata, callOptions, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

/** Waits until health says SERVING (it is NOT_SERVING until the first catalog loads). */
async function waitForServing(health, { timeoutMs = 30000, service = '' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const { status } = await call(health, 'Check', { service }, { timeoutMs: 2000 });
      if (status === 'SERVING') return;
      last = status;
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not SERVING after ${timeoutMs} ms (last: ${last})`);
}

async function* pages(catalog, method, request, timeoutMs) {
  let pageToken = '';
  do {
    const response = await call(catalog, method, { ...request, page_token: pageToken }, { timeoutMs });
    yield* response.models;
    pageToken = response.next_page_token;
  } while (pageToken);
}

/**
 * Yields every model ListModels returns, over all pages. `filters`: the other request
 * fields, sent with every page: developer_name, action, filter (AIP-160, e.g.
 * 'capabilities.input:image AND pricing.cost_per_image < 0.03'), order_by (AIP-132, e.g.
 * 'pricing.cost_per_image' or 'created desc'; default 'id') and view ('MODEL_VIEW_BASIC',
 * the default, or 'MODEL_VIEW_FULL'). `pageSize` 0 is the server's default (50).
 */
function iterModels(catalog, filters = {}, { pageSize = 0, timeoutMs } = {}) {
  return pages(catalog, 'ListModels', { ...filters, page_size: pageSize }, timeoutMs);
}

/**
 * Yields every model SearchModels ranks for `query`, best first, over all pages. `query` is
 * the text, or a request with it and the other fields, sent with every page:
 * { query: 'flux', filter: 'capabilities.output:image', view: 'MODEL_VIEW_FULL' }.
 */
function iterSearch(catalog, query, { pageSize = 0, timeoutMs } = {}) {
  const request = typeof query === 'string' ? { query } : query;
  return pages(catalog, 'SearchModels', { ...request, page_size: pageSize }, timeoutMs);
}

/**
 * Resolves with the models with these ids (1 to 1,000; an id may come twice) in the order
 * asked, from one BatchGetModels call, so from one catalog snapshot. `fields`: the other
 * request fields: view ('MODEL_VIEW_FULL', the default, or 'MODEL_VIEW_BASIC'). All or
 * nothing: an id the catalog does not have rejects with NOT_FOUND "Model not found: <id>";
 * no ids or more than 1,000 with INVALID_ARGUMENT.
 */
async function batchGetModels(catalog, ids, fields = {}, { timeoutMs } = {}) {
  const response = await call(catalog, 'BatchGetModels', { ...fields, ids: [...ids] }, { timeoutMs });
  return response.models;
}

/**
 * Yields WatchDeployments events of `modelIds` (empty: every model with deployments),
 * reconnecting when the stream ends with UNAVAILABLE. A reconnect resumes after the last
 * event that carried a resume_token: the server replays what was missed, or sends a fresh
 * initial state with `resync` set, which replaces what the caller knew. Other errors are
 * thrown. Leaving the loop cancels the stream.
 */
async function* watch(catalog, modelIds = [], { resumeToken = '', initialBackoffMs = 200, maxBackoffMs = 5000 } = {}) {
  let token = resumeToken;
  let backoff = initialBackoffMs;
  for (;;) {
    const stream = catalog.WatchDeployments({ model_ids: modelIds, resume_token: token });
    try {
      for await (const event of stream) {
        backoff = initialBackoffMs;
        if (event.resume_token) token = event.resume_token;
        yield event;
      }
      return; // ended by the server without an error: the watch is over
    } catch (err) {
      if (err.code !== grpc.status.UNAVAILABLE) throw err;
    } finally {
      stream.cancel();
    }
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(backoff * 2, maxBackoffMs);
  }
}

// The events that carry a model's state (and, outside a start, a resume token).
const STATE_EVENTS = new Set(['WATCH_EVENT_TYPE_INITIAL', 'WATCH_EVENT_TYPE_ADDED',
  'WATCH_EVENT_TYPE_CHANGED', 'WATCH_EVENT_TYPE_REMOVED']);

/**
 * A WatchModels stream that survives reconnects (see watchModels): an async iterable of the
 * events, with `knownVersions` ({ id: model_version } of the models the events so far hold,
 * a copy) and `resumeToken` (what a reconnect sends; '' when there is none).
 */
class ModelWatch {
  constructor(catalog, { filter = '', view = 'MODEL_VIEW_UNSPECIFIED', resumeToken = '', knownVersions = {},
    initialBackoffMs = 200, maxBackoffMs = 5000 } = {}) {
    if (typeof filter !== 'string') throw new TypeError(`filter must be a string, not ${typeof filter}`);
    if (typeof resumeToken !== 'string') throw new TypeError(`resumeToken must be a string, not ${typeof resumeToken}`);
    if (knownVersions === null || typeof knownVersions !== 'object' || Array.isArray(knownVersions)) {
      throw new TypeError(`knownVersions must map model ids to model_version strings (an object or a Map), not ${
        Array.isArray(knownVersions) ? 'an array' : JSON.stringify(knownVersions)}`);
    }
    const entries = knownVersions instanceof Map ? [...knownVersions] : Object.entries(knownVersions);
    for (const [id, version] of entries) {
      if (typeof id !== 'string' || typeof version !== 'string') {
        throw new TypeError(`knownVersions must map model ids to model_version strings, not ${id}: ${typeof version}`);
      }
    }
    this.catalog = catalog;
    this.request = { filter, view };
    this.versions = new Map(entries);
    this.token = resumeToken;
    this.initialBackoffMs = initialBackoffMs;
    this.maxBackoffMs = maxBackoffMs;
    this.stream = null;
    this.closed = false;
    this.events = this.run();
  }

  get knownVersions() { return Object.fromEntries(this.versions); }

  get resumeToken() { return this.token; }

  [Symbol.asyncIterator]() { return this; }

  next() { return this.events.next(); }

  return(value) { return this.events.return(value); }

  throw(err) { return this.events.throw(err); }

  /** Cancels the stream; iterating ends, also where a loop is waiting for the next event. */
  close() {
    this.closed = true;
    if (this.stream) this.stream.cancel();
    return this.events.return();
  }

  // Updates the versions and the token from one event; returns whether the stream's state
  // is (still) replacing everything held.
  apply(event, replacing) {
    if (!replacing && (event.type === 'WATCH_EVENT_TYPE_INITIAL' || event.resync)) {
      // INITIAL events are the whole state, as are the events of a resync (a resync of no
      // models is its marker alone): the first of them replaces what was held.
      this.versions.clear();
      replacing = true;
    }
    if (event.type === 'WATCH_EVENT_TYPE_REMOVED') {
      this.versions.delete(event.model_id);
    } else if (STATE_EVENTS.has(event.type) && event.model_version) {
      this.versions.set(event.model_id, event.model_version);
    }
    if (event.resume_token) {
      this.token = event.resume_token;
    } else if (STATE_EVENTS.has(event.type)) {
      // A state the token does not lead to (a start, or what differs from the versions held):
      // replaying from the token could repeat or undo it, while the versions say exactly
      // where the caller stands.
      this.token = '';
    }
    return replacing;
  }

  async* run() {
    let backoff = this.initialBackoffMs;
    while (!this.closed) {
      const stream = this.catalog.WatchModels({
        ...this.request, resume_token: this.token, known_versions: Object.fromEntries(this.versions),
      });
      this.stream = stream;
      let replacing = false;
      try {
        for await (const event of stream) {
          backoff = this.initialBackoffMs;
          replacing = this.apply(event, replacing);
          yield event;
        }
        return; // ended by the server without an error: the watch is over
      } catch (err) {
        if (this.closed) return;
        if (err.code !== grpc.status.UNAVAILABLE) throw err;
      } finally {
        stream.cancel();
      }
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, this.maxBackoffMs);
    }
  }
}

/**
 * Watches the models matching `filter` (AIP-160; '' : every model) in `view`
 * ('MODEL_VIEW_BASIC', or FULL, the default): returns a ModelWatch, an async iterable of
 * WatchModels events that reconnects when the stream ends with UNAVAILABLE (a server
 * restarting or killed, a lost connection, a replica shutting down).
 *
 * It keeps the model_version of every model the events hold and the last resume token, and a
 * reconnect sends both. The replica that sent the token replays exactly what was missed; any
 * other replica (or one that no longer retains the changes) sends only what differs from the
 * versions held: ADDED, CHANGED and REMOVED events, then the marker, with no repeated INITIAL
 * events and no resync. A stream without either starts with INITIAL events; one whose events
 * have `resync` set replaces everything the caller held.
 *
 * `knownVersions` ({ id: model_version } or a Map, e.g. saved from an earlier watch's
 * `knownVersions`) and `resumeToken` start from what the caller already holds. Errors other
 * than UNAVAILABLE are thrown (INVALID_ARGUMENT for a filter that does not parse or a version
 * that is not 16 hexadecimal digits). Leaving the loop (or close()) cancels the stream.
 */
function watchModels(catalog, options = {}) {
  return new ModelWatch(catalog, options);
}

/**
 * Resolves with the CostEstimate of each model (in the order asked) for one call with `usage`
 * ({ input_tokens, output_tokens, seconds, images, video_output_seconds, high_res, with_audio }),
 * from one EstimateCost call. Amounts (`total`, each line's `amount`) are exact decimal
 * strings in US dollars: keep them as strings or read them with a decimal library, not
 * Number. A model the usage cannot be priced on rejects with FAILED_PRECONDITION naming the
 * missing price; a negative quantity with INVALID_ARGUMENT naming the field.
 */
async function estimateCost(catalog, modelIds, usage, { timeoutMs } = {}) {
  const response = await call(catalog, 'EstimateCost', { model_ids: [...modelIds], usage }, { timeoutMs });
  return response.estimates;
}

/**
 * Yields the CostEstimate of every model matching `filter` that `usage` can be priced on,
 * cheapest first (ties by id), over all pages; models that cannot be priced are left out.
 */
async function* iterCheapest(catalog, filter, usage, { pageSize = 0, timeoutMs } = {}) {
  let pageToken = '';
  do {
    const response = await call(catalog, 'EstimateCost',
      { filter, usage, page_size: pageSize, page_token: pageToken }, { timeoutMs });
    yield* response.estimates;
    pageToken = response.next_page_token;
  } while (pageToken);
}

/**
 * Checks `parameters` (an object, sent as JSON, or JSON text) against the model's
 * request_schema; resolves with { valid, violations: [{ pointer, keyword, message }], notes,
 * schema_error }. Text that is not JSON rejects with INVALID_ARGUMENT.
 */
function validateRequest(catalog, modelId, parameters, { timeoutMs } = {}) {
  const text = typeof parameters === 'string' ? parameters : JSON.stringify(parameters);
  return call(catalog, 'ValidateRequest', { model_id: modelId, parameters_json: text }, { timeoutMs });
}

module.exports = {
  grpc,
  ModelCatalogService,
  Health,
  SERVICE_CONFIG,
  PROTO_DIR,
  connect,
  bearerToken,
  call,
  waitForServing,
  iterModels,
  iterSearch,
  batchGetModels,
  estimateCost,
  iterCheapest,
  validateRequest,
  watch,
  watchModels,
  ModelWatch,
};
