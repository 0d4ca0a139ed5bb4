// The peer engine for contiflow's benchmark: bpmn-engine runs a BPMN model instance after
// instance, completing each user task (a "wait" in bpmn-engine) with a signal, and prints one
// JSON object with the timings on stdout.
//
//   node run.js --model FILE --instances N [--warmup W] [--mode memory|saved|reload] [--state-dir DIR]
//
// Modes:
//   memory  the engine keeps the instance in memory from start to end (nothing saved);
//   saved   as memory, plus after the start and after every step the state is taken with
//           engine.getState(), JSON.stringify'd and written to a file (writeFileSync, no fsync);
//   reload  a stateless command per step, like a persisted engine: read the file, recover a
//           new Engine from it, resume, signal, getState, write the file.
// The model is parsed once (bpmn-moddle + moddle-context-serializer); every instance gets the
// serialized context, so no instance pays for XML parsing.

import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import BpmnModdle from 'bpmn-moddle';
import * as Elements from 'bpmn-elements';
import { Engine } from 'bpmn-engine';
import serializer, { TypeResolver } from 'moddle-context-serializer';

function parseArgs(argv) {
  const args = { instances: 10, warmup: 2, mode: 'memory', stateDir: null, model: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--model') args.model = value;
    else if (flag === '--instances') args.instances = Number(value);
    else if (flag === '--warmup') args.warmup = Number(value);
    else if (flag === '--mode') args.mode = value;
    else if (flag === '--state-dir') args.stateDir = value;
    else throw new Error(`unknown option ${flag}`);
  }
  if (!args.model) throw new Error('--model is required');
  if (!['memory', 'saved', 'reload'].includes(args.mode)) throw new Error(`unknown mode ${args.mode}`);
  if (args.mode !== 'memory' && !args.stateDir) throw new Error(`--mode ${args.mode} needs --state-dir`);
  return args;
}

const START_DATA = { incident: 'bench' };
const STEP_DATA = { done: true, note: 'bench' };

// A listener that hands out the next "wait" (a user task ready) or the end of the instance.
function Waiter() {
  const listener = new EventEmitter();
  let pending = null;
  let resolveNext = null;
  const deliver = (event) => {
    if (resolveNext) {
      const resolve = resolveNext;
      resolveNext = null;
      resolve(event);
    } else pending = event;
  };
  listener.on('wait', (api) => deliver({ kind: 'wait', api }));
  return {
    listener,
    ended: () => deliver({ kind: 'end' }),
    failed: (err) => deliver({ kind: 'error', err }),
    next() {
      if (pending) {
        const event = pending;
        pending = null;
        return Promise.resolve(event);
      }
      return new Promise((resolve) => { resolveNext = resolve; });
    },
  };
}

function watch(engine, waiter) {
  engine.once('end', () => waiter.ended());
  engine.once('error', (err) => waiter.failed(err));
}

function check(event) {
  if (event.kind === 'error') throw event.err;
  return event;
}

async function save(engine, file) {
  const text = JSON.stringify(await engine.getState());
  writeFileSync(file, text);
  return text.length;
}

async function runInstance(ctx, index, steps) {
  const { sourceContext, mode, stateDir } = ctx;
  const file = mode === 'memory' ? null : join(stateDir, `instance-${index}.json`);
  let waiter = Waiter();
  let engine = new Engine({ name: `bench-${index}`, sourceContext });
  watch(engine, waiter);
  await engine.execute({ listener: waiter.listener, variables: { ...START_DATA } });
  let event = check(await waiter.next());
  if (file) ctx.stateBytes = await save(engine, file);
  let done = 0;
  while (event.kind === 'wait') {
    const t0 = performance.now();
    if (mode === 'reload') {
      waiter = Waiter();
      engine = new Engine({ name: `bench-${index}`, sourceContext }).recover(JSON.parse(readFileSync(file, 'utf8')));
      watch(engine, waiter);
      await engine.resume({ listener: waiter.listener });
      event = check(await waiter.next());
      if (event.kind !== 'wait') throw new Error(`instance ${index}: resumed without a waiting task`);
    }
    event.api.signal({ ...STEP_DATA });
    event = check(await waiter.next());
    if (file) ctx.stateBytes = await save(engine, file);
    steps.push(performance.now() - t0);
    done += 1;
  }
  if (engine.state !== 'idle' || done !== ctx.expectedSteps) {
    throw new Error(`instance ${index}: ended in state ${engine.state} after ${done} steps (expected ${ctx.expectedSteps})`);
  }
  return done;
}

function percentile(sorted, q) {
  if (!sorted.length) return null;
  const pos = (sorted.length - 1) * (q / 100);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.stateDir) mkdirSync(args.stateDir, { recursive: true });
  const source = readFileSync(args.model, 'utf8');
  const t0 = performance.now();
  const moddleContext = await new BpmnModdle().fromXML(source);
  const sourceContext = serializer(moddleContext, TypeResolver({ ...Elements }));
  const parseMs = performance.now() - t0;
  const expectedSteps = (source.match(/<bpmn:userTask\b/g) || []).length;
  const ctx = { sourceContext, mode: args.mode, stateDir: args.stateDir, expectedSteps, stateBytes: null };

  for (let i = 0; i < args.warmup; i += 1) await runInstance(ctx, `w${i}`, []);
  if (global.gc) global.gc();
  const steps = [];
  const start = performance.now();
  for (let i = 0; i < args.instances; i += 1) await runInstance(ctx, i, steps);
  const seconds = (performance.now() - start) / 1000;
  const sorted = [...steps].sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({
    engine: 'bpmn-engine', version: JSON.parse(readFileSync(new URL('./node_modules/bpmn-engine/package.json', import.meta.url))).version,
    node: process.version, mode: args.mode, instances: args.instances, warmup: args.warmup,
    seconds, instances_per_s: args.instances / seconds, steps: steps.length,
    steps_per_instance: steps.length / args.instances,
    p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99),
    mean_ms: steps.reduce((a, b) => a + b, 0) / (steps.length || 1),
    parse_ms: parseMs, state_bytes: ctx.stateBytes,
  }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench/peer/run.js: ${err.stack || err}\n`);
  process.exit(1);
});
