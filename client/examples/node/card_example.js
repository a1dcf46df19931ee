#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// CardService from Node: two platform links, a card that shows them, every
// page of the user's cards, and what an INVALID_ARGUMENT's google.rpc.BadRequest
// detail says. The .proto files are loaded at run time (@grpc/proto-loader);
// nothing is generated. See client/examples/README.md.
//
//   node card_example.js --target=127.0.0.1:50051 --user_id=alice
//   CARD_TARGET=... CARD_USER_ID=... node card_example.js
//   node card_example.js --tls --tls_ca_file=ca.crt [--tls_cert_file=c.crt --tls_key_file=c.key]
//
// Exit codes: 0 when every call went as the example expects, 1 when a call
// failed (the status is printed), 2 for bad arguments.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const DEFAULT_PROTO_DIR = path.resolve(__dirname, '..', '..', '..', 'proto');
// Every call gets a deadline: without one, a stuck server stalls the caller forever.
const CALL_TIMEOUT_MS = 10000;

const USAGE = `usage: card_example.js [--target=HOST:PORT] --user_id=USER [--page_size=N]
  [--proto_dir=DIR] [--tls [--tls_ca_file=PEM] [--tls_server_name=NAME]
  [--tls_cert_file=PEM --tls_key_file=PEM]]
--target defaults to $CARD_TARGET or 127.0.0.1:50051, --user_id to $CARD_USER_ID.`;

function parseArguments() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        target: { type: 'string', default: process.env.CARD_TARGET || '127.0.0.1:50051' },
        user_id: { type: 'string', default: process.env.CARD_USER_ID || '' },
        // Small, so that paging shows.
        page_size: { type: 'string', default: '2' },
        proto_dir: { type: 'string', default: DEFAULT_PROTO_DIR },
        tls: { type: 'boolean', default: false },
        tls_ca_file: { type: 'string' },      // default: the system roots
        tls_server_name: { type: 'string' },  // when it differs from the target's host
        tls_cert_file: { type: 'string' },    // client certificate, for mutual TLS
        tls_key_file: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    usageError(e.message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (!values.user_id) usageError('--user_id (or CARD_USER_ID) is required');
  if (!!values.tls_cert_file !== !!values.tls_key_file) {
    usageError('--tls_cert_file and --tls_key_file go together');
  }
  values.page_size = Number.parseInt(values.page_size, 10);
  if (!Number.isInteger(values.page_size)) usageError('--page_size must be a number');
  return values;
}

function usageError(message) {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function loadCardService(protoDir) {
  const definition = protoLoader.loadSync('devcard/card/v1/card_service.proto', {
    includeDirs: [protoDir],
    keepCase: true,  // field names as in the proto: user_id, next_page_token
    longs: String,
    enums: String,
    defaults: true,
  });
  return grpc.loadPackageDefinition(definition).devcard.card.v1.CardService;
}

// google.rpc.Status and BadRequest as protobufjs types. card_service.proto does
// not import them: the server sends them only in the grpc-status-details-bin
// trailer, so a client loads them itself (the copies in proto/google/rpc).
function loadErrorTypes(protoDir) {
  const root = new protobuf.Root();
  // google/protobuf/any.proto comes bundled with protobufjs; the rest from protoDir.
  root.resolvePath = (origin, target) => path.resolve(protoDir, target);
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
  return {
    Status: root.lookupType('google.rpc.Status'),
    BadRequest: root.lookupType('google.rpc.BadRequest'),
  };
}

function credentials(args) {
  if (!args.tls) return { creds: grpc.credentials.createInsecure(), options: {} };
  const read = (file) => (file ? fs.readFileSync(file) : null);
  const creds = grpc.credentials.createSsl(read(args.tls_ca_file), read(args.tls_key_file),
                                           read(args.tls_cert_file));
  const options = {};
  if (args.tls_server_name) {
    options['grpc.ssl_target_name_override'] = args.tls_server_name;
    options['grpc.default_authority'] = args.tls_server_name;
  }
  return { creds, options };
}

// One unary call as a promise, with its deadline.
function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + CALL_TIMEOUT_MS }, (error, response) =>
      error ? reject(error) : resolve(response));
  });
}

function codeName(code) {
  return Object.keys(grpc.status).find((name) => grpc.status[name] === code) || String(code);
}

// The field violations of the google.rpc.BadRequest detail in a failed call's
// grpc-status-details-bin trailer; [] when there is none.
function badRequestViolations(error, types) {
  const values = error.metadata ? error.metadata.get('grpc-status-details-bin') : [];
  if (values.length === 0) return [];
  // Keys ending in -bin carry bytes (a Buffer): the serialized google.rpc.Status.
  const status = types.Status.decode(values[0]);
  const violations = [];
  for (const detail of status.details) {  // google.protobuf.Any
    if (detail.type_url.endsWith('/google.rpc.BadRequest')) {
      violations.push(...types.BadRequest.decode(detail.value).field_violations);
    }
  }
  return violations;
}

async function run(args) {
  const CardService = loadCardService(args.proto_dir);
  const errorTypes = loadErrorTypes(args.proto_dir);
  const { creds, options } = credentials(args);
  const client = new CardService(args.target, creds, options);
  const user = args.user_id;
  try {
    const linkIds = [];
    for (const [platform, url] of [['github', `https://github.com/${user}`],
                                   ['mastodon', `https://mastodon.social/@${user}`]]) {
      const link = await call(client, 'CreatePlatformLink',
                              { user_id: user, link: { platform, username: user, url } });
      console.log(`created link ${link.id} ${link.platform} ${link.url}`);
      linkIds.push(link.id);
    }

    // A request_id makes the create safe to retry: the server returns the first
    // call's card instead of creating a second one. Visibility is left unset
    // (the server's default).
    const card = await call(client, 'CreateCard', {
      user_id: user,
      card: { title: `${user} from Node`, description: 'made by card_example.js' },
      link_ids: linkIds,
      request_id: crypto.randomUUID(),
    });
    console.log(`created card ${card.id} title=${JSON.stringify(card.title)} slug=${card.slug} ` +
                `default=${card.is_default} links=${card.links.length}`);

    let pageToken = '';
    let pages = 0;
    let listed = 0;
    do {
      const page = await call(client, 'ListCards',
                              { user_id: user, page_size: args.page_size, page_token: pageToken });
      pages += 1;
      for (const c of page.cards) {
        listed += 1;
        console.log(`listed card ${c.id} title=${JSON.stringify(c.title)} ` +
                    `default=${c.is_default} page=${pages}`);
      }
      pageToken = page.next_page_token;  // empty: no more pages
    } while (pageToken);
    console.log(`listed ${listed} cards in ${pages} pages`);

    // An empty title is refused before anything is written: INVALID_ARGUMENT
    // with a BadRequest detail naming the field.
    try {
      await call(client, 'CreateCard', { user_id: user, card: { title: '' } });
      console.error('CreateCard with an empty title succeeded; expected INVALID_ARGUMENT');
      return 1;
    } catch (error) {
      if (error.code !== grpc.status.INVALID_ARGUMENT) throw error;
      console.log(`CreateCard with an empty title: ${codeName(error.code)}: ${error.details}`);
      const violations = badRequestViolations(error, errorTypes);
      for (const v of violations) console.log(`  field violation: ${v.field}: ${v.description}`);
      if (violations.length === 0) {
        console.error('no google.rpc.BadRequest detail in the trailers');
        return 1;
      }
    }
    return 0;
  } finally {
    client.close();
  }
}

run(parseArguments()).then(
  (code) => { process.exitCode = code; },
  (error) => {
    if (error.code === undefined) throw error;  // not a gRPC status: a bug, show the stack
    console.error(`call failed: ${codeName(error.code)}: ${error.details}`);
    process.exitCode = 1;
  });
