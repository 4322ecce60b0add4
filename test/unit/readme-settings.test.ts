import fs from 'node:fs';
import path from 'node:path';
import { settingsMarkdown } from '../../src/config';

describe('README', () => {
  it('lists every setting exactly as `hubble-graph settings` prints it', () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = /<!-- settings:start -->\n([\s\S]*?)<!-- settings:end -->/.exec(readme)?.[1] ?? '';
    expect(section.trim()).toBe(settingsMarkdown().trim());
  });
});
