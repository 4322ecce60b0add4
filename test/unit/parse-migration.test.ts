import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MigrationError } from '../../src/errors';
import { parseMigration, readMigrations } from '../../src/graph/migrate';

describe('parseMigration', () => {
  it('splits statements on a semicolon at the end of a line and drops // comments', () => {
    const text = '// first\nCREATE INDEX a IF NOT EXISTS FOR (n:A) ON (n.x);\n\nCREATE INDEX b IF NOT EXISTS\n  FOR (n:B) ON (n.y);\n';
    expect(parseMigration(text)).toEqual([
      'CREATE INDEX a IF NOT EXISTS FOR (n:A) ON (n.x)',
      'CREATE INDEX b IF NOT EXISTS\n  FOR (n:B) ON (n.y)',
    ]);
  });
});

describe('readMigrations', () => {
  let dir: string;
  const write = (file: string, text: string) => fs.writeFileSync(path.join(dir, file), text);
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-mig-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('orders migrations by version, not by the order the files were written in', () => {
    // Written out of order, so that an order by creation (or any order but the version's) shows.
    write('0010-ten.cypher', 'RETURN 10;\n');
    write('0002-two.cypher', 'RETURN 2;\n');
    write('0001-one.cypher', 'RETURN 1;\n');
    write('0003-three.cypher', 'RETURN 3;\n');
    expect(readMigrations(dir).map((f) => [f.version, f.name, f.statements])).toEqual([
      [1, '0001-one.cypher', ['RETURN 1']],
      [2, '0002-two.cypher', ['RETURN 2']],
      [3, '0003-three.cypher', ['RETURN 3']],
      [10, '0010-ten.cypher', ['RETURN 10']],
    ]);
  });

  it('checksums the text of each file, so that editing an applied migration changes its checksum and nothing else does', () => {
    write('0001-one.cypher', 'RETURN 1;\n');
    write('0002-two.cypher', 'RETURN 2;\n');
    const [one, two] = readMigrations(dir);
    expect(one!.checksum).toBe(sha256('RETURN 1;\n'));
    expect(two!.checksum).toBe(sha256('RETURN 2;\n'));

    write('0002-two.cypher', 'RETURN 2 AS two;\n');
    const [oneAgain, twoEdited] = readMigrations(dir);
    expect(oneAgain!.checksum).toBe(one!.checksum);
    expect(twoEdited!.checksum).not.toBe(two!.checksum);
    expect(twoEdited!.checksum).toBe(sha256('RETURN 2 AS two;\n'));
  });

  it('gives a file checked out with CRLF line ends the checksum of its LF text', () => {
    write('0001-one.cypher', 'RETURN 1;\nRETURN 2;\n');
    const lf = readMigrations(dir)[0]!.checksum;
    write('0001-one.cypher', 'RETURN 1;\r\nRETURN 2;\r\n');
    expect(readMigrations(dir)[0]!.checksum).toBe(lf);
  });

  it('refuses a file that is not named NNNN-name.cypher', () => {
    write('constraints.cypher', 'RETURN 1;');
    expect(() => readMigrations(dir)).toThrow(MigrationError);
    expect(() => readMigrations(dir)).toThrow(/constraints\.cypher/);
  });

  it('refuses two files with the same version, naming both', () => {
    write('0001-one.cypher', 'RETURN 1;');
    write('0001-uno.cypher', 'RETURN 1;');
    expect(() => readMigrations(dir)).toThrow(/"0001-one\.cypher" and "0001-uno\.cypher" share version 1/);
  });

  it('refuses a file with no statement, naming it', () => {
    write('0001-empty.cypher', '// nothing yet\n');
    expect(() => readMigrations(dir)).toThrow(/migration "0001-empty\.cypher" has no statements/);
  });

  it('reads the shipped migrations folder by default, starting at version 1', () => {
    const shipped = readMigrations();
    expect(shipped[0]).toMatchObject({ version: 1, name: expect.stringMatching(/^0001-/) });
  });
});
