// The machine's real fp32 peak, to read the sgemm "% of peak" against: twelve independent FMA
// chains per thread (enough to cover two FMA ports' 4-cycle latency), best of five runs, on the
// widest vectors the compiler was allowed (AVX-512, else AVX2). `npm run bench` builds and runs it
// in every round that times sgemm (bench/lib/peak.ts); by hand:
//
//   g++ -O3 -march=native -fopenmp bench/fma-peak.cc -o /tmp/fma-peak
//   OMP_NUM_THREADS=1 /tmp/fma-peak; OMP_NUM_THREADS=2 /tmp/fma-peak
//
// The nominal figure (cores × FLOP/cycle × clock) can miss by a lot both ways: a VM's
// /proc/cpuinfo shows the base clock, not the boost the core runs at, and AMD's Zen 4 accepts
// AVX-512 but executes it on 256-bit units (half the FLOP/cycle of an Intel core with two 512-bit
// FMA ports).
#include <immintrin.h>
#include <omp.h>

#include <cstdio>

#ifdef __AVX512F__
typedef __m512 vec;
static const int kLanes = 16;
static inline vec set1(float x) { return _mm512_set1_ps(x); }
static inline vec fmadd(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
static inline float sum(vec a) { return _mm512_reduce_add_ps(a); }
#else
typedef __m256 vec;
static const int kLanes = 8;
static inline vec set1(float x) { return _mm256_set1_ps(x); }
static inline vec fmadd(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
static inline float sum(vec a) {
  float t[8];
  _mm256_storeu_ps(t, a);
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#endif

int main() {
  // ~6.4 GFLOP per thread per run at 16 lanes: tens of milliseconds, long enough to time.
  const long iters = 200000000L / 12 * 16 / kLanes;
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    const double t0 = omp_get_wtime();
    float sink = 0;
#pragma omp parallel reduction(+ : sink)
    {
      vec a[12];
      for (int i = 0; i < 12; i++) a[i] = set1(1.0f + i * 1e-7f);
      const vec m = set1(0.999999f), c = set1(1e-7f);
      for (long it = 0; it < iters; it++)
        for (int i = 0; i < 12; i++) a[i] = fmadd(a[i], m, c);
      // The sum keeps the chains live (otherwise the loop is dead code).
      for (int i = 0; i < 12; i++) sink += sum(a[i]);
    }
    const double t = omp_get_wtime() - t0;
    const double gflops = omp_get_max_threads() * iters * 12.0 * 2 * kLanes / t / 1e9;
    if (gflops > best) best = gflops;
    std::printf("%d threads, %d lanes: %.1f GFLOP/s (checksum %g)\n", omp_get_max_threads(),
                kLanes, gflops, sink);
  }
  std::printf("best: %.1f GFLOP/s\n", best);
}
