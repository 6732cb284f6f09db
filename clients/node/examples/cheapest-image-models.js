#!/usr/bin/env node
'use strict';
// Prints the three cheapest image models: one ListModels call that filters, orders and pages.
//
//   node clients/node/examples/cheapest-image-models.js --server=localhost:50051
//
// Prints one line per model (id, price per image, display name), cheapest first, ties in
// id order, and on stderr how many image models the catalog has.

const { parseArgs } = require('util');
const mc = require('..');

// Models that produce images, whatever their pricing method; models without a price per
// image come last in this order.
const IMAGE_MODELS = 'capabilities.output:image';
const BY_PRICE = 'pricing.cost_per_image';

/**
 * The first page of the image models in price order: a ListModelsResponse with `count`
 * models in BASIC view (no description or request schema) and `total_size` image models.
 */
function cheapestImageModels(catalog, count = 3, { timeoutMs = 10000 } = {}) {
  return mc.call(catalog, 'ListModels', {
    filter: IMAGE_MODELS, order_by: BY_PRICE, page_size: count, view: 'MODEL_VIEW_BASIC',
  }, { timeoutMs });
}

async function main() {
  const { values } = parseArgs({
    options: {
      server: { type: 'string', default: process.env.CATALOGCTL_SERVER || 'localhost:50051' },
      count: { type: 'string', default: '3' },
    },
  });
  const { catalog, close } = mc.connect(values.server);
  try {
    const response = await cheapestImageModels(catalog, Number(values.count));
    for (const model of response.models) {
      const price = model.pricing && model.pricing.cost_per_image !== undefined
        ? String(model.pricing.cost_per_image) : '-';
      console.log(`${model.id.padEnd(45)} ${price.padEnd(8)} ${model.display_name}`);
    }
    console.error(`${response.models.length} of ${response.total_size} image models`);
  } catch (err) {
    console.error(`error: ${mc.grpc.status[err.code] ?? err.code}: ${err.details ?? err.message}`);
    process.exitCode = 1;
  } finally {
    close();
  }
}

main();
