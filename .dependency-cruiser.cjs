// The boundaries of Ferry's code, checked in `npm test` (npm run lint:deps): no import
// circles; the renderer and the preload reach main only through the contract; the engine
// and the app's services never name a concrete driver (a driver is its own folder under
// main/, registered in main/drivers.ts).
/** main/'s own modules: everything else under main/ is a driver's folder or the CLI. */
const CORE = '^main/(engine|services|handlers|store|server)/|^main/[^/]+[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle: the modules cannot be understood, tested or loaded one at a time.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      severity: 'error',
      comment: 'Two folders that import each other are one module in two places.',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'renderer-not-main',
      severity: 'error',
      comment: 'The renderer runs sandboxed; it reaches main only through preload/contract.ts.',
      from: { path: '^renderer/' },
      to: { path: '^main/' },
    },
    {
      name: 'preload-not-main',
      severity: 'error',
      comment: 'The preload is the contract and its bridge; main implements it, not the other way round.',
      from: { path: '^preload/' },
      to: { path: '^(main|renderer)/' },
    },
    {
      name: 'common-is-a-leaf',
      severity: 'error',
      comment: 'common/ is shared by main and renderer: it may use the model, nothing of either side.',
      from: { path: '^common/' },
      to: { path: '^(main|renderer)/' },
    },
    {
      name: 'engine-is-driver-neutral',
      severity: 'error',
      comment: 'The engine talks to drivers only through main/engine/driver.ts.',
      from: { path: '^main/engine/' },
      to: { path: '^main/', pathNot: '^main/engine/' },
    },
    {
      name: 'core-names-no-driver',
      severity: 'error',
      comment: "The app's services reach drivers through the registry (main/drivers.ts), never a driver's folder.",
      from: { path: CORE, pathNot: '^main/drivers[.]ts$' },
      to: { path: '^main/', pathNot: CORE },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'] },
  },
};
