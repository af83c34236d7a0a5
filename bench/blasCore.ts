// Which of OpenBLAS's kernel sets (its "core types") runs fastest on this machine, measured, so that `npm run bench`
// runs both sides on it: the issue asks for the peer in its fastest form, and both sides load the same OpenBLAS.
//
// OpenBLAS picks its kernels from the CPU it detects unless OPENBLAS_CORETYPE names a set. Some hosts set that
// variable for every process (the AMD EPYC development machine sets Haswell: AVX2 kernels on a CPU with AVX-512);
// there, on 2026-12-02, 320 × 128 × 1,000 on two threads took 551 µs with Haswell's kernels and 337–340 with the
// detected Cooperlake's (this probe), and PyTorch's 475 against 291 (`a @ b`). So each candidate runs in its own
// process (a kernel set the CPU cannot run dies there, not here) timing the bench's products through the toolkit's
// own Blas, and the fastest by geometric mean wins.
//
//   node --import tsx bench/blasCore.ts     one probe under the current environment: prints {core, us} as JSON
import { spawnSync } from 'node:child_process';
import { loadOpenBlas } from '../src/backend/blas.js';

/** The kernel sets tried besides the detected one (OPENBLAS_CORETYPE unset): the x86-64 ones of OpenBLAS 0.3.x. */
export const CORE_CANDIDATES = ['Haswell', 'SkylakeX', 'Cooperlake', 'Zen'] as const;
const PROBED = ['detected', ...CORE_CANDIDATES];

/** [M, K, N, transA]: a decoding step's recurrent and output products at 64 and 320 rows, training's gradients. */
const SHAPES: [number, number, number, boolean][] = [
  [64, 128, 384, false],
  [64, 128, 1000, false],
  [320, 128, 1000, false],
  [1280, 128, 384, false],
  [128, 1280, 1000, true],
  [64, 512, 8000, false],
];

interface Probe {
  core: string;
  us: Record<string, number>;
}

export interface CoreChoice {
  /** OPENBLAS_CORETYPE for both sides, or undefined: leave the environment as it was. */
  coretype: string | undefined;
  /** The kernel set OpenBLAS reported under that setting. */
  core: string;
  /** The environment's OPENBLAS_CORETYPE before the choice. */
  before: string | undefined;
  /** Each candidate that ran: its setting, its kernel set, µs per shape, geometric mean (the faster of two probes). */
  trials: { coretype: string; core: string; us: Record<string, number>; geomean: number }[];
  /** Candidates whose probe failed (a kernel set this CPU cannot run), with why. */
  failed: Record<string, string>;
}

/** Runs the probe under each candidate setting (a process each) and returns the fastest. Null without OpenBLAS. */
export function chooseOpenBlasCore(root: string): CoreChoice | null {
  const before = process.env['OPENBLAS_CORETYPE'];
  const trials: CoreChoice['trials'] = [];
  const failed: Record<string, string> = {};
  // Two passes over the candidates, each keeping its faster: a busy moment of the host slows one probe, not both.
  for (const coretype of [...PROBED, ...PROBED]) {
    if (failed[coretype] !== undefined) continue;
    const env = { ...process.env };
    if (coretype === 'detected') delete env['OPENBLAS_CORETYPE'];
    else env['OPENBLAS_CORETYPE'] = coretype;
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/blasCore.ts'], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const line = r.stdout?.trim().split('\n').at(-1) ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      failed[coretype] = r.signal ?? `exit ${r.status}: ${(r.stderr ?? '').trim().split('\n').at(-1) ?? ''}`;
      continue;
    }
    const p = JSON.parse(line) as Probe;
    const logs = Object.values(p.us).map(Math.log);
    const trial = {
      coretype,
      core: p.core,
      us: p.us,
      geomean: Math.exp(logs.reduce((a, b) => a + b, 0) / logs.length),
    };
    const i = trials.findIndex((t) => t.coretype === coretype);
    if (i < 0) trials.push(trial);
    else if (trial.geomean < trials[i]!.geomean) trials[i] = trial;
  }
  if (trials.length === 0) return null;
  const best = trials.reduce((a, b) => (b.geomean < a.geomean ? b : a));
  return {
    coretype: best.coretype === 'detected' ? undefined : best.core,
    core: best.core,
    before,
    trials,
    failed,
  };
}

/** Times each shape through the toolkit's Blas (its thread rules included) in this process. */
async function probe(): Promise<Probe> {
  const blas = await loadOpenBlas();
  const us: Record<string, number> = {};
  for (const [M, K, N, transA] of SHAPES) {
    const buffer = new ArrayBuffer(4 * (M * K + K * N + M * N));
    const values = new Float32Array(buffer);
    for (let i = 0; i < values.length; i++) values[i] = ((i * 7919) % 1000) / 1000 - 0.5;
    const base = blas.address(buffer);
    const [a, b, c] = [base, base + 4 * M * K, base + 4 * (M * K + K * N)];
    const run = () => blas.sgemm(transA, false, M, N, K, a, b, c, false);
    const warm = performance.now();
    while (performance.now() - warm < 150) run();
    const times: number[] = [];
    for (let rep = 0; rep < 5; rep++) {
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < 40) {
        run();
        n++;
      }
      times.push(((performance.now() - t0) / n) * 1000);
    }
    times.sort((x, y) => x - y);
    us[`${M}x${K}x${N}${transA ? 'ᵀ' : ''}`] = Math.round(times[2]! * 10) / 10;
  }
  return { core: blas.core, us };
}

if (process.argv[1] === import.meta.filename) process.stdout.write(JSON.stringify(await probe()) + '\n');
