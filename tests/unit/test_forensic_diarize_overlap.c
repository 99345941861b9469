/* Overlapping speech and interruptions.
 *
 * Stereo (one party per channel): overlaps are measured — each episode
 * where both channels are active is credited to the party who started
 * talking over the other (interruptions, overlap_s), and both parties get
 * the talk time. Mono: diarization gives one label per frame, so
 * overlap_s stays 0 (docs/diarization.md says why); a turn taken with no
 * pause after the other's still counts as an interruption.
 *
 * The conversation: party 0 (Korean male) and party 1 (Korean female)
 * alternate; party 1 starts 1.0 s and 0.7 s before party 0 finishes in
 * two turns (known overlap 1.7 s, both started by party 1), the other
 * turns have pauses.
 *
 * Build & run: cmake --build build --target test_forensic_diarize_overlap &&
 *              build/tests/test_forensic_diarize_overlap [test_name]
 * Skips (77) without espeak-ng. */
#include "diar/diar_testkit.h"
#include "diar/diar_text.h"
#include "diarize.h"
#include "test.h"
#include "vad.h"

static tk_sig g_u[6];
static tk_convo g_c;
static int g_ready;

static int load(void) {
  if (g_ready) return g_ready > 0 ? 0 : -1;
  g_ready = -1;
  if (system("espeak-ng --version >/dev/null 2>&1") != 0) return -1;
  static const tk_voice a = {"-v ko -p 20 -s 130"}, b = {"-v ko+f3 -p 80 -s 170"};
  static const double gaps[6] = {0, -1.0, 0.8, 0.6, 0.9, -0.7};
  tk_turn_plan p[6];
  char t[400];
  for (int i = 0; i < 6; i++) {
    g_u[i] = tk_say(i % 2 ? &b : &a, tk_text_ko(i + 11, t, sizeof t));
    if (!g_u[i].x) return -1;
    p[i] = (tk_turn_plan){&g_u[i], i % 2, gaps[i]};
  }
  if (tk_convo_build(p, 6, 1.0, &g_c)) return -1;
  g_ready = 1;
  return 0;
}

static int run(int stereo, vm_diar_result **out) {
  vm_vad_result *v = NULL;
  int rc = vm_vad_run(g_c.mono, g_c.n, TK_RATE, NULL, &v);
  if (rc) return rc;
  vm_diar_input in = {.mono = g_c.mono, .n_samples = g_c.n, .sample_rate_hz = TK_RATE,
                      .regions = v->regions, .n_regions = v->n_regions};
  if (stereo) { in.channels[0] = g_c.ch[0]; in.channels[1] = g_c.ch[1]; }
  rc = vm_diarize(&in, NULL, out);
  vm_vad_result_destroy(v);
  return rc;
}

/* Speaker label of reference party p: the speaker at the middle of its
 * first turn. */
static int label_of(const vm_diar_result *d, int party) {
  for (size_t r = 0; r < g_c.n_ref; r++) {
    if (g_c.ref[r].speaker != party) continue;
    double m = 0.5 * (g_c.ref[r].start_s + g_c.ref[r].end_s);
    for (size_t i = 0; i < d->n_turns; i++)
      if (m >= d->turns[i].start_s && m < d->turns[i].end_s) return d->turns[i].speaker;
  }
  return -1;
}

static int test_stereo_overlaps(void) {
  if (load()) TEST_SKIP("espeak-ng not available");
  vm_diar_result *d = NULL;
  ASSERT_OK(run(1, &d));
  ASSERT_STR_EQ(d->method, "stereo-channels");
  ASSERT_EQ(d->n_speakers, 2);
  int s0 = label_of(d, 0), s1 = label_of(d, 1);
  ASSERT(s0 >= 0 && s1 >= 0 && s0 != s1);
  const vm_diar_speaker *p0 = &d->speakers[s0], *p1 = &d->speakers[s1];
  printf("  stereo: party 1 interruptions %zu, overlap %.2f s (true 2, 1.70 s); party 0: %zu, %.2f s\n",
         p1->n_interruptions, p1->overlap_s, p0->n_interruptions, p0->overlap_s);
  ASSERT_EQ(p1->n_interruptions, 2);
  ASSERT_NEAR(p1->overlap_s, 1.7, 0.25);
  ASSERT_EQ(p0->n_interruptions, 0);
  ASSERT_NEAR(p0->overlap_s, 0, 1e-9);
  /* both parties get their talk time during the overlap */
  double ref0 = 0, ref1 = 0;
  for (size_t r = 0; r < g_c.n_ref; r++)
    *(g_c.ref[r].speaker ? &ref1 : &ref0) += g_c.ref[r].end_s - g_c.ref[r].start_s;
  printf("  talk time: party 0 %.2f s (true %.2f), party 1 %.2f s (true %.2f)\n", p0->talk_s, ref0,
         p1->talk_s, ref1);
  ASSERT_NEAR(p0->talk_s, ref0, 0.1 * ref0);
  ASSERT_NEAR(p1->talk_s, ref1, 0.1 * ref1);
  vm_diar_result_destroy(d);
  return 0;
}

static int test_mono_overlaps_stay_zero(void) {
  if (load()) TEST_SKIP("espeak-ng not available");
  vm_diar_result *d = NULL;
  ASSERT_OK(run(0, &d));
  ASSERT_STR_EQ(d->method, "bic-ahc-viterbi");
  ASSERT_EQ(d->n_speakers, 2);
  int s1 = label_of(d, 1);
  ASSERT(s1 >= 0);
  size_t n_int = 0;
  for (int k = 0; k < d->n_speakers; k++) {
    ASSERT_NEAR(d->speakers[k].overlap_s, 0, 0); /* single-label: not measured */
    n_int += d->speakers[k].n_interruptions;
  }
  printf("  mono: party 1 takeovers without a pause %zu (true 2), all takeovers %zu, overlap_s 0\n",
         d->speakers[s1].n_interruptions, n_int);
  ASSERT_EQ(d->speakers[s1].n_interruptions, 2);
  vm_diar_result_destroy(d);
  return 0;
}

static int test_cleanup(void) {
  for (int i = 0; i < 6; i++) free(g_u[i].x);
  tk_convo_free(&g_c);
  tk_cleanup();
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_stereo_overlaps), TEST_ENTRY(test_mono_overlaps_stay_zero),
          TEST_ENTRY(test_cleanup))
