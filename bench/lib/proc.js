'use strict';
/**
 * Child processes of a benchmark: the service and each ceiling run in a
 * process of their own, as they would in production, so the load generator
 * shares nothing with them but the machine.
 */
const {fork} = require('child_process');
const path = require('path');
const {env} = require('./env');
const {summarize} = require('./profile');

const SERVERS = path.join(env.root, 'bench', 'servers');
let nextId = 1;

class Child {
  constructor(name, proc) {
    this.name = name;
    this.proc = proc;
    this.pid = proc.pid;
    this.info = {};
    this.pending = new Map();
    this.listeners = [];
    this.tail = [];
    this.exited = new Promise(resolve => proc.once('exit', resolve));
    proc.on('message', msg => {
      if (msg?.id !== undefined && this.pending.has(msg.id)) {
        const {resolve, reject} = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) reject(new Error(`${name}: ${msg.error}`));
        else resolve(msg.result);
        return;
      }
      for (const listener of this.listeners) listener(msg);
    });
    const keep = chunk => {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue;
        this.tail.push(line);
        if (this.tail.length > 40) this.tail.shift();
      }
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
  }

  /** A request answered by the child's `onRequest(type, ...)` handler. */
  call(type, payload) {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject});
      this.proc.send({id, type, payload});
    });
  }

  /** Messages the child sends of its own accord. */
  onMessage(listener) {
    this.listeners.push(listener);
  }

  /** CPU time (ms, user + system) the child has used so far. */
  async cpuMs() {
    const {cpu} = await this.call('usage');
    return (cpu.user + cpu.system) / 1000;
  }

  async rssMb() {
    const {rss} = await this.call('usage');
    return rss / 2 ** 20;
  }

  async startProfile() {
    await this.call('profile-start');
  }

  /** Stops the profile, writes it and returns the top of it as text. */
  async stopProfile(file, top = 12) {
    await this.call('profile-stop', {file});
    return summarize(file, top);
  }

  async stop() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 15000);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Forks `bench/servers/<script>.js` and waits for its `ready` message.
 * Its output is kept (the last lines) to explain a failure.
 */
async function startChild(script, childEnv = {}, {name = script} = {}) {
  const proc = fork(path.join(SERVERS, `${script}.js`), [], {
    env: {...process.env, ...childEnv},
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const child = new Child(name, proc);
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start in 120 s`)),
      120000,
    );
    child.onMessage(msg => {
      if (msg?.type === 'ready') {
        clearTimeout(timer);
        resolve(msg);
      }
    });
    proc.once('exit', code => {
      clearTimeout(timer);
      reject(
        new Error(
          `${name} exited (${code}) before it was ready:\n${child.tail.join('\n')}`,
        ),
      );
    });
  });
  child.info = info;
  child.url = info.url;
  return child;
}

/** The service's CPU profile over `work`, when BENCH_PROFILE=1. */
async function profiled(child, bench, label, work) {
  if (!env.profile) return work();
  await child.startProfile();
  let result;
  try {
    result = await work();
  } finally {
    const file = path.join(env.profileDir, `${bench}-${label}.cpuprofile`);
    const top = await child.stopProfile(file);
    console.log(`   CPU profile of ${child.name} (${label}), ${file}:`);
    console.log(top);
  }
  return result;
}

module.exports = {startChild, profiled};
