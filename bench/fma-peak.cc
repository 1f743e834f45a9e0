// The machine's real fp32 peak, to read the sgemm "% of peak" against: twelve independent AVX-512
// FMA chains per thread (enough to cover two FMA ports' 4-cycle latency), best of five runs.
//
//   g++ -O3 -mavx512f -fopenmp bench/fma-peak.cc -o /tmp/fma-peak
//   OMP_NUM_THREADS=1 /tmp/fma-peak; OMP_NUM_THREADS=2 /tmp/fma-peak
#include <immintrin.h>
#include <omp.h>

#include <cstdio>

int main() {
  const long iters = 200000000L / 12;
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    const double t0 = omp_get_wtime();
    float sink = 0;
#pragma omp parallel reduction(+ : sink)
    {
      __m512 a[12];
      for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps(1.0f + i * 1e-7f);
      const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
      for (long it = 0; it < iters; it++)
        for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], m, c);
      // The sum keeps the chains live (otherwise the loop is dead code).
      for (int i = 0; i < 12; i++) sink += _mm512_reduce_add_ps(a[i]);
    }
    const double t = omp_get_wtime() - t0;
    const double gflops = omp_get_max_threads() * iters * 12.0 * 32 / t / 1e9;
    if (gflops > best) best = gflops;
    std::printf("%d threads: %.1f GFLOP/s (checksum %g)\n", omp_get_max_threads(), gflops, sink);
  }
  std::printf("best: %.1f GFLOP/s\n", best);
}
