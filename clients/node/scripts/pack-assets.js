#!/usr/bin/env node
'use strict';
// Copies what index.js loads into the package before `npm pack` (prepack), so that the
// tarball works wherever it is installed, and removes the copies after (postpack):
//   proto/modelcatalog/v1/*.proto             from the repository's proto/
//   grpc-proto/grpc/health/v1/health.proto    the standard health protocol (Debian's grpc-proto,
//                                             or MODEL_CATALOG_GRPC_PROTO_DIR)
//   service_config.json                       the clients' shared service config
// Also refuses to pack when package.json's version is not the project's (VERSION).
//
//   node scripts/pack-assets.js copy|clean

const fs = require('fs');
const path = require('path');

const here = path.join(__dirname, '..');
const repo = path.join(here, '..', '..');
const grpcProtoDir = process.env.MODEL_CATALOG_GRPC_PROTO_DIR || '/usr/share/grpc-proto';
const copies = [
  [path.join(repo, 'proto', 'modelcatalog'), path.join(here, 'proto', 'modelcatalog')],
  [path.join(grpcProtoDir, 'grpc', 'health', 'v1', 'health.proto'),
    path.join(here, 'grpc-proto', 'grpc', 'health', 'v1', 'health.proto')],
  [path.join(repo, 'clients', 'service_config.json'), path.join(here, 'service_config.json')],
];

function clean() {
  for (const p of ['proto', 'grpc-proto', 'service_config.json']) {
    fs.rmSync(path.join(here, p), { recursive: true, force: true });
  }
}

function copy() {
  const version = fs.readFileSync(path.join(repo, 'VERSION'), 'utf8').trim();
  const packageVersion = require(path.join(here, 'package.json')).version;
  if (packageVersion !== version) {
    throw new Error(`package.json has version ${packageVersion}, the project ${version} (VERSION): ` +
      'set the same in both');
  }
  clean();
  for (const [from, to] of copies) {
    if (!fs.existsSync(from)) throw new Error(`${from} not found`);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.cpSync(from, to, { recursive: true });
  }
}

const command = process.argv[2];
if (command === 'copy') copy();
else if (command === 'clean') clean();
else {
  console.error('usage: pack-assets.js copy|clean');
  process.exit(2);
}
