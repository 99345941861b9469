/* bench_diarize.c — VAD + chunking + diarization speed, as multiples of
 * real time on one core, on an espeak-ng conversation of N minutes.
 *
 *   cc -O2 -I src/base -I src/dsp -I src/forensic bench/bench_diarize.c \
 *      build/src/forensic/libvm_forensic.a build/src/dsp/libvm_dsp.a \
 *      build/src/base/libvm_base.a -lfftw3f -ljansson -lssl -lcrypto -lm
 *   ./a.out [minutes=10] [loop | tileS]
 * (or through bench/CMakeLists.txt with -DVM_BUILD_BENCH=ON). Target:
 * > 200x real time per core (issue 5). The conversation is built from
 * varied sentences (tests/diar/diar_text.h, up to about 60 min); "loop"
 * instead repeats four fixed recordings (at most TK_MAX_TURNS turns,
 * about 35 min), the pathological case docs/diarization.md describes;
 * "tileS" (e.g. tile60) builds S seconds of varied conversation and
 * repeats that whole recording (a replayed call). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../tests/diar/diar_testkit.h"
#include "../tests/diar/diar_text.h"
#include "chunker.h"
#include "diarize.h"
#include "vad.h"

static double cpu_s(void) { return (double)clock() / CLOCKS_PER_SEC; }

int main(int argc, char **argv) {
  double minutes = argc > 1 ? atof(argv[1]) : 10.0;
  static const tk_voice v[2] = {{"-v ko -p 20 -s 130"}, {"-v ko+f3 -p 80 -s 170"}};
  static const char *text[4] = {
    "여보세요 김철수 씨 되시죠 저는 서울 중앙 지검 수사관입니다",
    "네 맞는데요 무슨 일 때문에 그러세요",
    "고객님 명의로 된 계좌가 범죄에 사용된 정황이 있어서 연락드렸습니다",
    "그럴 리가 없어요 저는 그런 계좌를 만든 적이 없습니다",
  };
  int loop = argc > 2 && strcmp(argv[2], "loop") == 0;
  double tile_s = argc > 2 && strncmp(argv[2], "tile", 4) == 0 ? atof(argv[2] + 4) : 0;
  static tk_convo c;
  static tk_varied var;
  tk_sig u[4] = {{0}};
  if (tile_s > 0) { /* a varied recording of tile_s seconds, repeated */
    const tk_voice *vp[2] = {&v[0], &v[1]};
    static const int who[2] = {0, 1};
    if (tk_varied_build(vp, who, 2, 0, 0, tile_s, &var)) {
      fprintf(stderr, "espeak-ng failed\n");
      return 2;
    }
    if (tk_tile(&var.c, minutes * 60, &c)) return 2;
  } else if (!loop) {
    const tk_voice *vp[2] = {&v[0], &v[1]};
    static const int who[2] = {0, 1};
    if (tk_varied_build(vp, who, 2, 0, 0, minutes * 60, &var)) {
      fprintf(stderr, "espeak-ng failed\n");
      return 2;
    }
    c = var.c;
  } else {
    for (int i = 0; i < 4; i++) {
      u[i] = tk_say(&v[i % 2], text[i]);
      if (!u[i].x) { fprintf(stderr, "espeak-ng failed\n"); return 2; }
    }
    size_t n_turns = (size_t)(minutes * 60 / 4.2);
    if (n_turns > TK_MAX_TURNS) n_turns = TK_MAX_TURNS;
    if (n_turns < 2) n_turns = 2;
    static tk_turn_plan p[TK_MAX_TURNS];
    for (size_t i = 0; i < n_turns; i++)
      p[i] = (tk_turn_plan){&u[i % 4], (int)(i % 2), 0.3 + 0.1 * (double)(i % 5)};
    if (tk_convo_build(p, n_turns, 0.5, &c)) return 2;
  }
  size_t n = c.n;
  float *x = c.mono;
  double t0 = cpu_s();
  vm_vad_result *vad = NULL;
  vm_chunk_plan *plan = NULL;
  vm_diar_result *d = NULL;
  if (vm_vad_run(x, n, TK_RATE, NULL, &vad)) return 1;
  double t1 = cpu_s();
  if (vm_chunker_plan(vad, NULL, &plan)) return 1;
  double t2 = cpu_s();
  vm_diar_input in = {.mono = x, .n_samples = n, .sample_rate_hz = TK_RATE,
                      .regions = vad->regions, .n_regions = vad->n_regions};
  if (vm_diarize(&in, NULL, &d)) return 1;
  double t3 = cpu_s(), audio = (double)n / TK_RATE;
  printf("audio %.0f s: VAD %.0fx, chunker %.0fx, diarization %.0fx, all %.0fx real time "
         "(%zu regions, %zu chunks, %d speakers, %zu turns)\n",
         audio, audio / (t1 - t0), audio / fmax(t2 - t1, 1e-9), audio / (t3 - t2),
         audio / (t3 - t0), vad->n_regions, plan->n_chunks, d->n_speakers, d->n_turns);
  static tk_hyp_turn h[4 * TK_MAX_TURNS];
  size_t nh = d->n_turns < 4 * TK_MAX_TURNS ? d->n_turns : 4 * TK_MAX_TURNS;
  for (size_t i = 0; i < nh; i++) h[i] = (tk_hyp_turn){d->turns[i].start_s, d->turns[i].end_s, d->turns[i].speaker};
  printf("  DER %.2f %% (%zu reference turns)\n", 100 * tk_der(&c, h, nh, 0.25), c.n_ref);
  vm_diar_result_destroy(d);
  vm_chunk_plan_destroy(plan);
  vm_vad_result_destroy(vad);
  if (loop || tile_s > 0) tk_convo_free(&c);
  if (!loop) tk_varied_free(&var);
  for (int i = 0; i < 4; i++) free(u[i].x);
  tk_cleanup();
  return 0;
}
