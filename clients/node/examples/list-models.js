#!/usr/bin/env node
'use strict';
// Lists the catalog's models, every page, optionally filtered.
//
//   node clients/node/examples/list-models.js --server=localhost:50051 --developer_name=anthropic
//   node clients/node/examples/list-models.js --search=flux

const { parseArgs } = require('util');
const mc = require('..');

async function main() {
  const { values } = parseArgs({
    options: {
      server: { type: 'string', default: process.env.CATALOGCTL_SERVER || 'localhost:50051' },
      developer_name: { type: 'string', default: '' },
      action: { type: 'string', default: '' },
      search: { type: 'string', default: '' },
    },
  });
  const { catalog, close } = mc.connect(values.server);
  try {
    const models = values.search
      ? mc.iterSearch(catalog, values.search)
      : mc.iterModels(catalog, { developer_name: values.developer_name, action: values.action });
    let count = 0;
    for await (const model of models) {
      const status = model.deployments.length ? model.deployments[0].status_raw : '-';
      console.log(`${model.id.padEnd(45)} ${model.display_name.padEnd(32)} ${model.model_type_raw.padEnd(7)} ${status}`);
      count += 1;
    }
    console.error(`${count} models`);
  } catch (err) {
    console.error(`error: ${mc.grpc.status[err.code] ?? err.code}: ${err.details ?? err.message}`);
    process.exitCode = 1;
  } finally {
    close();
  }
}

main();
