// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The reference for tests/check-json.c: for each line of the file named on the
// command line, prints JSON.stringify(JSON.parse(line)) (for a number that is
// String(x)), or "!" and the error name if JSON.parse() rejects the line.
'use strict';

const fs = require('fs');

if (process.argv.length !== 3) {
	process.stderr.write('usage: canonical.js FILE\n');
	process.exit(2);
}

const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n');
if (lines.length > 0 && lines[lines.length - 1] === '')
	lines.pop();

const out = lines.map((line) => {
	try {
		return JSON.stringify(JSON.parse(line));
	} catch (e) {
		return '!' + e.name;
	}
});
process.stdout.write(out.join('\n') + '\n');
