'use strict';
// Installs the npm packages when a fresh clone has none, so `npm start` and
// `npm test` are each one command. Plain Node: it runs before any package.
const {execSync} = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const marker = path.join(root, 'node_modules', '.package-lock.json');
const lock = path.join(root, 'package-lock.json');

function stale() {
  if (!fs.existsSync(marker)) return true;
  return fs.statSync(lock).mtimeMs > fs.statSync(marker).mtimeMs + 1000;
}

if (stale()) {
  console.log('Installing npm packages (npm ci)...');
  execSync('npm ci', {cwd: root, stdio: 'inherit'});
}

// The example app resolves the package by name, through a link to this repository.
const link = path.join(
  root,
  'sandbox',
  'task-example',
  'node_modules',
  'loopback4-task-service',
);
if (!fs.existsSync(link)) {
  fs.mkdirSync(path.dirname(link), {recursive: true});
  fs.symlinkSync(path.relative(path.dirname(link), root), link, 'dir');
}
