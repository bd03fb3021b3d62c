// The README documents the JSON event schema; this keeps it in step with src/events.ts: every
// event type has a row naming all its fields, and an example line that parses to that type.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/fixtures.js';

const events = readFileSync(join(REPO_ROOT, 'src/events.ts'), 'utf8');
const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Progress output'), readme.indexOf('\n## ', readme.indexOf('## Progress output') + 1));

/** Each member of the BuildEvent union: its type and its own field names. */
function eventMembers(): Array<{ type: string; fields: string[] }> {
  const union = events.slice(events.indexOf('export type BuildEvent ='), events.indexOf('export type BuildEventType'));
  return union
    .split(/\n\s*\| /)
    .map((member) => member.replace(/\/\*\*[\s\S]*?\*\//g, ''))
    .filter((member) => /type: '/.test(member))
    .map((member) => ({
      type: /type: '([^']+)'/.exec(member)![1]!,
      // Fields of the member itself, not of nested objects (image: { digest, names }).
      fields: [...member.replace(/\{[^{}]*\{[^{}]*\}/g, (m) => m.slice(0, m.lastIndexOf('{'))).matchAll(/(\w+)\??: /g)]
        .map((m) => m[1]!)
        .filter((name) => name !== 'type' && name !== 'time'),
    }));
}

describe('README: JSON event schema', () => {
  const members = eventMembers();

  it('finds the event types in src/events.ts', () => {
    expect(members.map((m) => m.type)).toEqual(expect.arrayContaining(['build.start', 'step.log', 'build.done', 'build.error']));
  });

  it('has a row per event type naming every field', () => {
    for (const { type, fields } of members) {
      const row = section.split('\n').find((line) => line.startsWith(`| \`${type}\` |`));
      expect(row, `no row for ${type}`).toBeDefined();
      for (const field of fields) expect(row, `${type}.${field} undocumented`).toContain(`\`${field}`);
    }
  });

  it('has an example line per event type', () => {
    const examples = section
      .split('\n')
      .filter((line) => line.startsWith('{"type":'))
      .map((line) => JSON.parse(line) as { type: string; time: unknown });
    for (const { type } of members) {
      const example = examples.find((e) => e.type === type);
      expect(example, `no example for ${type}`).toBeDefined();
      expect(typeof example!.time).toBe('number');
    }
  });
});
