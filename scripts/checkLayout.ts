// Checks the rules of the layout that no compiler or linter checks (run by `npm run lint:layout`, and by .ci/run):
// - tests mirror src/ file by file: src/a/b.ts has test/a/b.test.ts;
// - no file in src/ over 400 lines unless its opening comment says why, in a line that starts "// Over 400 lines:";
// - no line in src/ over 160 characters (Prettier wraps code at 120; this catches comments and strings).
// Prints each breach on one line and exits 1 if there is any.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';

const MAX_FILE_LINES = 400;
const MAX_LINE_LENGTH = 160;
const root = path.resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

const problems: string[] = [];
for (const file of sourceFiles('src')) {
  const test = path.join('test', path.relative('src', file)).replace(/\.ts$/, '.test.ts');
  if (!existsSync(path.join(root, test))) problems.push(`${file}: no test file ${test}`);
  const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length > MAX_FILE_LINES) {
    const header = lines.slice(
      0,
      lines.findIndex((l) => !l.startsWith('//')),
    );
    if (!header.some((l) => l.startsWith('// Over 400 lines:'))) {
      problems.push(
        `${file}: ${lines.length} lines, over ${MAX_FILE_LINES}, and no "// Over 400 lines:" reason at its top`,
      );
    }
  }
  lines.forEach((l, i) => {
    if (l.length > MAX_LINE_LENGTH) problems.push(`${file}:${i + 1}: ${l.length} characters, over ${MAX_LINE_LENGTH}`);
  });
}
for (const p of problems) console.error(p);
if (problems.length > 0) {
  console.error(`${problems.length} layout problem${problems.length === 1 ? '' : 's'}`);
  process.exit(1);
}
console.log('layout: every src file has its test file, none is over 400 lines without a reason, no line is over 160');
