import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { READ_NAMES, createDefaultRegistry } from '@scribe/store';

const README = fs.readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');

describe('README', () => {
  it('has a table row for every write the default registry holds', () => {
    const missing = createDefaultRegistry()
      .names()
      .filter((name) => !README.includes(`| \`${name}\``));
    expect(missing).toEqual([]);
  });

  it('documents every read of the Querier', () => {
    expect(READ_NAMES.filter((name) => !README.includes(`\`${name}(`))).toEqual([]);
  });
});
