/**
 * The PyTorch peer at its best: which OpenBLAS kernel set it runs.
 *
 * Some machines set OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) for everything,
 * which holds OpenBLAS to older kernels (AVX2's "Haswell" on an AVX-512
 * CPU). The peer's command, and only it, runs without both, so that
 * OpenBLAS picks its native kernel for the CPU. OpenBLAS's own detection
 * knows only the CPUs of its release, though: on a newer one it falls back
 * to a generic kernel (OpenBLAS 0.3.21 on a family 6 model 207 Xeon picks
 * "Prescott", SSE3 only). When that happens the peer is given the best
 * kernel set this library has for the instruction sets the CPU reports
 * (AVX-512 with BF16: Cooperlake; AVX-512: SkylakeX; AVX2: Haswell or
 * Zen), checked by reading back the kernel the library then loads.
 *
 * Tests and CI never see any of this: it is the peer's environment only.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The variables that pin OpenBLAS's kernel: removed from the peer's environment. */
export const PINNING_VARIABLES = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

export interface BlasProbe {
  torch?: string;
  /** OpenBLAS's configuration string, e.g. "OpenBLAS 0.3.21 ... DYNAMIC_ARCH ... Cooperlake". */
  openblas?: string;
  /** The kernel set it runs. */
  core?: string;
  libraries: string[];
  error?: string;
}

export interface KernelChoice {
  /** The environment of every peer run (the caller adds the thread counts). */
  env: NodeJS.ProcessEnv;
  /** The kernel the peer runs (undefined when PyTorch does not use OpenBLAS). */
  core?: string;
  /** What OpenBLAS picked by itself with the pinning variables removed. */
  detected?: string;
  /** What the machine had set (the variables removed for the peer). */
  pinned: Partial<Record<(typeof PINNING_VARIABLES)[number], string>>;
  /** One paragraph for the report. */
  note: string;
}

/** Kernel sets older than anything with AVX: what OpenBLAS falls back to on a CPU it does not know. */
const GENERIC = new Set(['Prescott', 'Katmai', 'Coppermine', 'Northwood', 'Banias', 'Core2', 'Penryn', 'Dunnington', 'Nehalem', 'Atom', 'Nano', 'Opteron', 'Barcelona', 'Bobcat']);

/** The CPU's instruction-set flags (Linux), and its vendor. */
export function cpuFeatures(cpuinfo = safeRead('/proc/cpuinfo')): { flags: Set<string>; vendor: string; model: string } {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1]?.trim() ?? '';
  return { flags: new Set(field('flags').split(/\s+/).filter(Boolean)), vendor: field('vendor_id'), model: `family ${field('cpu family')} model ${field('model')}` };
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The kernel sets that suit a CPU with these flags, best first. */
export function suitableKernels(flags: Set<string>, vendor: string): string[] {
  const amd = /AMD/i.test(vendor);
  const out: string[] = [];
  if (flags.has('avx512f') && flags.has('avx512vl') && flags.has('avx512bw') && flags.has('avx512dq')) {
    if (flags.has('avx512_bf16')) out.push('Cooperlake');
    out.push('SkylakeX');
  }
  if (flags.has('avx2') && flags.has('fma')) out.push(...(amd ? ['Zen', 'Haswell'] : ['Haswell']));
  return out;
}

/** Runs the peer's BLAS probe (`torch_ae.py --blas`) in `env`. */
export function probeBlas(python: string, script: string, env: NodeJS.ProcessEnv): BlasProbe {
  const r = spawnSync(python, [script, '--blas'], { encoding: 'utf8', env, timeout: 120_000 });
  const line = r.stdout?.trim().split('\n').pop() ?? '';
  try {
    const j = JSON.parse(line) as { torch: string; blas: { openblas?: string; openblasCore?: string; libraries: string[] } };
    return { torch: j.torch, openblas: j.blas.openblas, core: j.blas.openblasCore, libraries: j.blas.libraries };
  } catch {
    return { libraries: [], error: `the BLAS probe failed (status ${r.status}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}` };
  }
}

/** The peer's environment and kernel (see the file comment). */
export function chooseKernel(python: string, script: string, base: NodeJS.ProcessEnv = process.env): KernelChoice {
  const env: NodeJS.ProcessEnv = { ...base };
  const pinned: KernelChoice['pinned'] = {};
  for (const v of PINNING_VARIABLES) {
    if (env[v] !== undefined) pinned[v] = env[v];
    delete env[v];
  }
  const pinnedText = Object.keys(pinned).length ? `${Object.entries(pinned).map(([k, v]) => `${k}=${v}`).join(', ')} (set on this machine) removed for the peer only` : `${PINNING_VARIABLES.join(' and ')} not set`;
  const probe = probeBlas(python, script, env);
  if (!probe.core) {
    return { env, pinned, note: `BLAS: ${probe.openblas ?? probe.libraries.join(', ') ?? 'unknown'}${probe.error ? ` (${probe.error})` : ''}; ${pinnedText}.` };
  }
  const cpu = cpuFeatures();
  const suitable = suitableKernels(cpu.flags, cpu.vendor);
  if (!GENERIC.has(probe.core) || suitable.length === 0 || suitable.includes(probe.core)) {
    return { env, pinned, core: probe.core, detected: probe.core, note: `OpenBLAS kernel: ${probe.core}, its own choice for this CPU (${pinnedText}).` };
  }
  for (const candidate of suitable) {
    const tried = probeBlas(python, script, { ...env, OPENBLAS_CORETYPE: candidate });
    if (tried.core === candidate) {
      return {
        env: { ...env, OPENBLAS_CORETYPE: candidate },
        pinned,
        core: candidate,
        detected: probe.core,
        note:
          `OpenBLAS kernel: ${candidate}. ${pinnedText}; OpenBLAS's own detection then picks ${probe.core}, its generic fallback for a CPU it does not know ` +
          `(${cpu.vendor} ${cpu.model}; ${probe.openblas?.split(' ').slice(0, 2).join(' ')}), so the peer runs ${candidate}, the best kernel set this library has for the CPU's ` +
          `${cpu.flags.has('avx512f') ? 'AVX-512' : 'AVX2'} (OPENBLAS_CORETYPE=${candidate} in the peer's command).`,
      };
    }
  }
  return { env, pinned, core: probe.core, detected: probe.core, note: `OpenBLAS kernel: ${probe.core} (${pinnedText}; none of ${suitable.join(', ')} loads in this OpenBLAS).` };
}
