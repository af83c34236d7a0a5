// Import-direction rules for src/ (run by `npm run lint:imports`, and by .ci/run). The folders are layers, lowest
// first; a file may import from its own layer's folder or from a lower layer, never from a higher one, and the
// folders that share a layer (siblings) never import each other. README "Architecture" walks through them.
const layers = [
  { name: 'base', path: '^src/(errors|random)\\.ts$' },
  { name: 'backend', path: '^src/backend/' },
  { name: 'model', path: '^src/model/' },
  { name: 'data', path: '^src/data/', siblings: ['^src/data/text/', '^src/data/series/', '^src/data/download/'] },
  { name: 'metrics', path: '^src/metrics/' },
  { name: 'plot', path: '^src/plot/' },
  { name: 'layers', path: '^src/layers/' },
  { name: 'recurrent', path: '^src/recurrent/' },
  { name: 'encoder', path: '^src/encoder/' },
  { name: 'decoder', path: '^src/decoder/' },
  { name: 'loss', path: '^src/loss/' },
  { name: 'search', path: '^src/search/' },
  { name: 'train', path: '^src/train/' },
  { name: 'translation', path: '^src/translation/' },
  {
    name: 'heads',
    path: '^src/heads/',
    siblings: ['^src/heads/lm/', '^src/heads/classifier/', '^src/heads/forecaster/'],
  },
  { name: 'demo', path: '^src/demo/' },
  { name: 'serve', path: '^src/serve/' },
  { name: 'web', path: '^src/web/' },
  { name: 'browser', path: '^src/browser/' },
  { name: 'cli', path: '^src/(cli/|cli\\.ts$)' },
  { name: 'api', path: '^src/index\\.ts$' },
];
// Layers that sit side by side: neither imports the other.
const sameLevel = [
  ['data', 'metrics', 'plot'],
  ['translation', 'heads'],
  ['serve', 'web', 'browser'],
];
const level = new Map();
let n = 0;
for (const l of layers) {
  const group = sameLevel.find((g) => g.includes(l.name));
  const first = group ? layers.find((x) => group.includes(x.name)) : l;
  level.set(l.name, first === l ? n++ : level.get(first.name));
}
const forbidden = [
  {
    name: 'no-circular',
    severity: 'error',
    comment: 'Import circles hide which file is the lower one.',
    from: {},
    to: { circular: true },
  },
];
for (const a of layers) {
  for (const b of layers) {
    if (a === b || level.get(b.name) < level.get(a.name)) continue;
    forbidden.push({
      name: `${a.name}-not-to-${b.name}`,
      severity: 'error',
      comment:
        level.get(a.name) === level.get(b.name)
          ? `${a.name}/ and ${b.name}/ are siblings`
          : `${b.name}/ is above ${a.name}/`,
      from: { path: a.path },
      to: { path: b.path },
    });
  }
  for (const s of a.siblings ?? []) {
    for (const t of a.siblings) {
      if (s !== t)
        forbidden.push({
          name: `${a.name}-siblings`,
          severity: 'error',
          comment: `${s} and ${t} are siblings`,
          from: { path: s },
          to: { path: t },
        });
    }
  }
}
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
