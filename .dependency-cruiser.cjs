/**
 * The architecture's import rules, checked in `npm test` (test/docs/architecture.test.ts) and
 * explained in docs/developer/architecture.md. Layers, top to bottom: cli > dashboard > regression >
 * orchestrator > rig > sim > devices > evidence > verdict > analysis > config. A folder may
 * import only folders below it; nothing imports in a cycle; no driver imports a simulator.
 */
const layers = ['cli', 'dashboard', 'regression', 'orchestrator', 'rig', 'sim', 'devices', 'evidence', 'verdict', 'analysis', 'config'];

/** For each layer, the layers above it (which it must not import). */
const upward = layers.map((layer, i) => ({
  name: `no-upward-import-from-${layer}`,
  comment: `src/${layer}/ must not import a folder above it (${layers.slice(0, i).join(', ') || 'none'})`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${layers.slice(0, i).join('|') || '$^'})/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'modules must not import each other in a cycle',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-simulator-in-drivers',
      comment: 'a real bench loads no simulator: src/devices/ must not import src/sim/',
      severity: 'error',
      from: { path: '^src/devices/' },
      to: { path: '^src/sim/' },
    },
    ...upward.filter((r) => !r.to.path.includes('$^')),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Imports that exist only for types still tie the folders together, so they count.
    exclude: { path: '(^|/)node_modules/' },
  },
};
