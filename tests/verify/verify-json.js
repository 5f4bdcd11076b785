// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The AstraNetmon docs' Node receiver check, as an Express app does it:
// express.json() parses the body (JSON.parse of the UTF-8 text) and the
// handler signs JSON.stringify(req.body), HMAC-SHA256 keyed with the secret,
// as lowercase hex, compared with the X-Webhook-Signature header. It only
// passes when the sender's body is canonical (what JSON.stringify writes).
//
// usage: node verify-json.js BODY_FILE SIGNATURE SECRET
// exit 0 if the signature is valid, 1 if not, 2 on a usage error
'use strict';

const crypto = require('crypto');
const fs = require('fs');

if (process.argv.length !== 5) {
	process.stderr.write('usage: verify-json.js BODY_FILE SIGNATURE SECRET\n');
	process.exit(2);
}
const [bodyFile, signature, secret] = process.argv.slice(2);

let body;
try {
	body = JSON.parse(fs.readFileSync(bodyFile, 'utf8'));
} catch (e) {
	process.stderr.write(`verify-json.js: the body is not JSON: ${e.message}\n`);
	process.exit(1);
}

const expected = crypto.createHmac('sha256', secret).update(JSON.stringify(body)).digest('hex');
const given = Buffer.from(signature, 'utf8');
const wanted = Buffer.from(expected, 'utf8');
if (given.length !== wanted.length || !crypto.timingSafeEqual(given, wanted)) {
	process.stderr.write('verify-json.js: signature does not match JSON.stringify(req.body)\n');
	process.exit(1);
}
process.exit(0);
