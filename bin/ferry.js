#!/usr/bin/env node
// `ferry` command line: the built CLI (npm install runs the build through `prepare`).
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'cli', 'ferry.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('ferry: not built yet; run `npm run build` in ' + path.join(__dirname, '..') + '\n');
  process.exit(1);
}
const ferry = require(cli);
ferry.quietOnClosedPipe();
ferry
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
