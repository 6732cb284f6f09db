#!/usr/bin/env node
'use strict';
// Watches the catalog's models, keeping what it holds in a file across runs.
//
//   node clients/node/examples/watch-models.js --server=localhost:50051 \
//     --filter=capabilities.output:image --versions=held.json
//
// Prints one line per event that changes what it holds (`INITIAL id version`, `ADDED id
// version`, `CHANGED id version path...`, `REMOVED id`), and on stderr, at each marker, how
// many models it holds. --versions names a JSON file { model id: model_version }: read at the
// start (the server then sends only what differs from it), written at each marker and each
// change after it, so a second run that finds nothing changed prints nothing on stdout.
// --until_current stops at the first marker. Ctrl-C stops.

const fs = require('fs');
const { parseArgs } = require('util');
const mc = require('..');

function loadVersions(path) {
  return path && fs.existsSync(path) ? JSON.parse(fs.readFileSync(path, 'utf8')) : {};
}

function saveVersions(path, versions) {
  if (!path) return;
  fs.writeFileSync(`${path}.tmp`, JSON.stringify(versions));
  fs.renameSync(`${path}.tmp`, path);
}

function eventLine(event) {
  const name = event.type.replace('WATCH_EVENT_TYPE_', '');
  if (event.type === 'WATCH_EVENT_TYPE_REMOVED') return `${name} ${event.model_id}`;
  const paths = event.changed_fields ? event.changed_fields.paths : [];
  return [name, event.model_id, event.model_version, ...paths].join(' ');
}

async function main() {
  const { values } = parseArgs({
    options: {
      server: { type: 'string', default: process.env.CATALOGCTL_SERVER || 'localhost:50051' },
      filter: { type: 'string', default: '' },
      versions: { type: 'string' },
      until_current: { type: 'boolean', default: false },
    },
  });
  const { catalog, close } = mc.connect(values.server);
  const watch = mc.watchModels(catalog, { filter: values.filter, knownVersions: loadVersions(values.versions) });
  process.once('SIGINT', () => watch.close());
  let current = false; // past the first marker: each change is saved as it comes
  try {
    for await (const event of watch) {
      if (event.type === 'WATCH_EVENT_TYPE_PROGRESS') continue;
      if (event.type === 'WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE') {
        current = true;
        console.error(`${Object.keys(watch.knownVersions).length} models held${event.resync ? ' (resync)' : ''}`);
      } else {
        console.log(eventLine(event));
      }
      if (current) saveVersions(values.versions, watch.knownVersions);
      if (values.until_current && current) break;
    }
  } catch (err) {
    console.error(`error: ${mc.grpc.status[err.code] ?? err.code}: ${err.details ?? err.message}`);
    process.exitCode = 1;
  } finally {
    close();
  }
}

main();
