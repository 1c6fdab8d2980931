// Runs the backfill state machine's page loops in aws-local-stepfunctions
// (an ASL interpreter), with the Tasks replaced by local handlers: a tagger
// whose source has `pages` pages (cursors "", "c1", ... "c<pages-1>"), the
// nested executions of the machine itself (Continue: run the top-level
// definition with the task's Input), and the Map Run and coverage calls.
// Input on stdin: {"top": <definition>, "first": <definition to start, or
// null for top>, "input": <its input>, "pages": N}. Output on stdout:
// {"output", "error" (the execution's failure: name and message, or null), "cursors" (each page's cursor, in call order), "executions"
// (pages run by each execution, in start order), "coverage" (calls)}.
import { readFileSync } from 'node:fs';

// The interpreter asks for Node 22; on Node 20 (this repository's) it needs
// only Promise.withResolvers (ES2024), supplied here before it loads.
Promise.withResolvers ??= function () {
  let resolve, reject;
  const promise = new this((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
};
const { StateMachine } = await import('aws-local-stepfunctions');

const req = JSON.parse(readFileSync(0, 'utf8'));
const cursors = [];
const executions = [];
let coverage = 0;
const stack = [];

function handlers(states, out = {}) {
  for (const [name, s] of Object.entries(states)) {
    if (s.Type === 'Map' && s.ItemProcessor) handlers(s.ItemProcessor.States, out);
    if (s.Type !== 'Task') continue;
    if (name.endsWith('Page')) {
      out[name] = async (input) => {
        const b = input.Payload.backfill;
        cursors.push(b.cursor);
        executions[stack[stack.length - 1]]++;
        const n = b.cursor === '' ? 0 : Number(b.cursor.slice(1));
        const next = n + 1 < req.pages ? 'c' + (n + 1) : '';
        return { Payload: { items: b.limit, tagged: 1, unchanged: b.limit - 1, violations: n % 2, failed: n % 500 === 7 ? [{ record: 'rec_x', reason: 'r' }] : [], next_cursor: next } };
      };
    } else if (name.endsWith('Continue')) {
      out[name] = async (input) => ({ Output: await run(req.top, input.Input) });
    } else if (name === 'DescribeMapRun') {
      out[name] = async () => ({ Status: 'SUCCEEDED', ItemCounts: { Total: 1, Succeeded: 1, Failed: 0, TimedOut: 0, Aborted: 0 } });
    } else if (name === 'RecordCoverage') {
      out[name] = async () => { coverage++; return { Payload: { recorded: true } }; };
    } else {
      out[name] = async () => { throw new Error('no local handler for Task ' + name); };
    }
  }
  return out;
}

async function run(definition, input) {
  stack.push(executions.length);
  executions.push(0);
  const sm = new StateMachine(definition, { validationOptions: { noValidate: true } });
  const waits = {};
  for (const [name, s] of Object.entries(definition.States)) if (s.Type === 'Wait') waits[name] = 0;
  const ex = sm.run(input, { overrides: { taskResourceLocalHandlers: handlers(definition.States), waitTimeOverrides: waits },
    context: { Execution: { Id: 'arn:local:execution:' + executions.length, Input: input } } });
  try {
    return await ex.result;
  } finally {
    stack.pop();
  }
}

let output = null;
let error = null;
try {
  output = await run(req.first ?? req.top, req.input);
} catch (e) {
  error = { name: e.name, message: e.message };
}
process.stdout.write(JSON.stringify({ output, error, cursors, executions, coverage }));
