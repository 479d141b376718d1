// The warm runtime's assignment: what the platform sends a waiting kfn-node-runtime.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAssignment } from '../../pkg/runtime/warm.js';

describe('parseAssignment', () => {
  it('takes args, cwd and env', () => {
    assert.deepEqual(parseAssignment('{"args":["handler.js"],"cwd":"/srv/fn","env":{"PORT":"8080"}}'), {
      args: ['handler.js'],
      cwd: '/srv/fn',
      env: { PORT: '8080' },
    });
  });
  const bad: { name: string; line: string; want: RegExp }[] = [
    { name: 'not JSON', line: 'handler.js', want: /JSON/ },
    { name: 'not an object', line: '"handler.js"', want: /want a JSON object/ },
    { name: 'no handler module', line: '{"args":[],"cwd":"/","env":{}}', want: /args must name the handler module/ },
    { name: 'args not strings', line: '{"args":[1],"cwd":"/","env":{}}', want: /args/ },
    { name: 'no cwd', line: '{"args":["h.js"],"env":{}}', want: /cwd must be a folder/ },
    { name: 'env values not strings', line: '{"args":["h.js"],"cwd":"/","env":{"PORT":8080}}', want: /env must map names to strings/ },
    { name: 'env missing', line: '{"args":["h.js"],"cwd":"/"}', want: /env/ },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}`, () => assert.throws(() => parseAssignment(c.line), c.want));
  }
});
