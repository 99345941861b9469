/* test_forensic_lang_score.c — the scoring formulas: the original system's
 * two worked test vectors (reference §6.8), risk levels, threat assessment,
 * Korean texts, the fixed deception baseline, reduction of segment
 * evidence and the seeded bootstrap.
 *
 *   ctest --test-dir build -R test_forensic_lang_score --output-on-failure
 */
#include <string.h>

#include "lang_impl.h"
#include "test.h"

/* (a) recorded, skip-SER mode: empty crime hits, D = 0, fixed
 * cross-validation (K 0.8, sentiment 0, V 0.5, stress 0.2), stress risk
 * "high". */
static int test_vector_a(void) {
  vm__lang_score_in in = {0};
  in.K = in.K_conf = 0.8;
  in.s = 0.0;
  in.V = 0.5;
  in.S = 0.2;
  in.stress_risk = 2;
  vm__lang_score_out o;
  vm__lang_score_compute(&in, &o);
  ASSERT_NEAR(o.cat[VM__LANG_CAT_GASLIGHTING].score, 5.0, 1e-9);
  ASSERT_NEAR(o.cat[VM__LANG_CAT_GASLIGHTING].confidence, 0.3, 1e-12);
  ASSERT_NEAR(o.cat[VM__LANG_CAT_THREAT].score, 0.0, 1e-12);
  ASSERT_NEAR(o.cat[VM__LANG_CAT_COERCION].score, 0.0, 1e-12);
  ASSERT_NEAR(o.cat[VM__LANG_CAT_DECEPTION].score, 9.0, 1e-9);
  ASSERT_NEAR(o.cat[VM__LANG_CAT_DECEPTION].confidence, 0.8, 1e-12);
  ASSERT_NEAR(o.cat[VM__LANG_CAT_EMOTIONAL].score, 0.0, 1e-12);
  ASSERT_NEAR(o.cat[VM__LANG_CAT_EMOTIONAL].confidence, 0.7, 1e-12);
  ASSERT_NEAR(o.DP, 0.09, 1e-12);
  ASSERT_NEAR(o.overall, 3.05, 1e-9);
  ASSERT_STR_EQ(vm__lang_risk_name(o.risk), "minimal");
  ASSERT_NEAR(o.confidence, 0.432, 1e-9);
  ASSERT_NEAR(o.emotional_authenticity, 1.0, 1e-12);
  ASSERT_NEAR(o.credibility, 0.1, 1e-12);
  ASSERT_EQ(o.flags, 0);
  char sum[256];
  vm__lang_summary_ko(&o, sum, sizeof sum);
  ASSERT_STR_EQ(sum, "최소 위험 수준 (점수: 3.1/100). 특별한 위험 패턴이 감지되지 않았습니다.");
  const char *rec[8];
  ASSERT_EQ(vm__lang_recommendations_ko(&o, rec, 8), 2);
  ASSERT_STR_EQ(rec[0], "현재 특별한 조치가 필요하지 않습니다");
  ASSERT_STR_EQ(rec[1], "정기적인 자기 점검을 권장합니다");
  return 0;
}

/* (b) derived by hand: no pattern hits, D = 0.2, A 0.6 / V 0.55 → S 0.375,
 * no discrepancies → K 0.95. */
static int test_vector_b(void) {
  vm__lang_score_in in = {0};
  in.D = 0.2;
  in.K = in.K_conf = 0.95;
  in.s = 0.0;
  in.V = 0.55;
  in.S = 0.375;
  in.stress_risk = 0;
  vm__lang_score_out o;
  vm__lang_score_compute(&in, &o);
  ASSERT_NEAR(o.GI, 1.25, 1e-9);
  ASSERT_NEAR(o.DP, 0.1275, 1e-12);
  ASSERT_NEAR(o.overall, 2.8625, 1e-9);
  ASSERT_STR_EQ(vm__lang_risk_name(o.risk), "minimal");
  ASSERT_NEAR(o.confidence, 0.549, 1e-9);
  ASSERT_EQ(o.cat[VM__LANG_CAT_DECEPTION].evidence_count, 2);
  return 0;
}

static int test_risk_levels(void) {
  ASSERT_EQ(vm__lang_risk_level(0.0), VM__LANG_RISK_MINIMAL);
  ASSERT_EQ(vm__lang_risk_level(20.0), VM__LANG_RISK_MINIMAL); /* inclusive upper bounds */
  ASSERT_EQ(vm__lang_risk_level(20.01), VM__LANG_RISK_LOW);
  ASSERT_EQ(vm__lang_risk_level(40.0), VM__LANG_RISK_LOW);
  ASSERT_EQ(vm__lang_risk_level(60.0), VM__LANG_RISK_MODERATE);
  ASSERT_EQ(vm__lang_risk_level(80.0), VM__LANG_RISK_HIGH);
  ASSERT_EQ(vm__lang_risk_level(80.01), VM__LANG_RISK_CRITICAL);
  ASSERT_STR_EQ(vm__lang_risk_name_ko(VM__LANG_RISK_CRITICAL), "심각");
  return 0;
}

static int test_threat_assessment(void) {
  vm__lang_score_in in = {0};
  in.T = 0.9;
  in.nT = 3;
  in.G = 0.8;
  in.nG = 6;
  in.K = in.K_conf = 0.95;
  in.V = NAN;
  in.S = 0.8;
  in.stress_risk = 2;
  in.stress_indicator = 1;
  vm__lang_score_out o;
  vm__lang_score_compute(&in, &o);
  ASSERT_NEAR(o.TS, 100.0, 1e-9); /* min(100, 100·0.9·1.2) */
  ASSERT_NEAR(o.cat[VM__LANG_CAT_THREAT].score, o.TS, 0); /* same value as the level */
  ASSERT_STR_EQ(vm__lang_risk_name(o.threat_level), "critical");
  ASSERT_STR_EQ(o.immediacy, "immediate");
  ASSERT_STR_EQ(o.specificity, "detailed");
  ASSERT_NEAR(o.credibility, 1.0, 1e-12);
  /* GI = 100·(0.4·0.8 + 0.3·(0 + 0.5·0.05) + 0.2·1 + 0.1·0.05) */
  ASSERT_NEAR(o.GI, 100.0 * (0.32 + 0.0075 + 0.2 + 0.005), 1e-9);
  ASSERT(isnan(o.emotional_authenticity)); /* valence not measured */
  ASSERT(o.flags & VM__LANG_FLAG_THREAT);
  ASSERT(o.flags & VM__LANG_FLAG_HIGH_STRESS);
  ASSERT(!(o.flags & VM__LANG_FLAG_GASLIGHTING)); /* GI 53.25 < 60 */
  /* overall = 0.25·53.25 + 0.25·100 + 0.2·0 + 0.2·100·DP + 0 */
  double dp = 0.35 * 0.05 + 0.1 * 0.8;
  ASSERT_NEAR(o.overall, 0.25 * 53.25 + 25.0 + 20.0 * dp, 1e-9);
  ASSERT_STR_EQ(vm__lang_risk_name(o.risk), "moderate");
  char sum[512];
  vm__lang_summary_ko(&o, sum, sizeof sum);
  ASSERT_STR_CONTAINS(sum, "중간 위험 수준 감지됨 (점수: 40.3/100).");
  ASSERT_STR_CONTAINS(sum, " 주요 위험 영역: 협박");
  const char *rec[8];
  size_t n = vm__lang_recommendations_ko(&o, rec, 8);
  ASSERT_EQ(n, 2);
  ASSERT_STR_EQ(rec[0], "가스라이팅 패턴이 감지되었습니다. 심리 상담을 고려해보세요");
  ASSERT_STR_EQ(rec[1], "위협 패턴이 감지되었습니다. 법적 조언을 구하시기 바랍니다");
  /* without stress the factor is 1 and immediacy near-term */
  in.stress_risk = -1;
  vm__lang_score_compute(&in, &o);
  ASSERT_NEAR(o.TS, 90.0, 1e-9);
  ASSERT_STR_EQ(o.immediacy, "near-term");
  return 0;
}

static int test_critical_recommendations(void) {
  vm__lang_score_out o;
  memset(&o, 0, sizeof o);
  o.overall = 85.0;
  o.risk = vm__lang_risk_level(o.overall);
  const char *rec[8];
  ASSERT_EQ(vm__lang_recommendations_ko(&o, rec, 8), 5);
  ASSERT_STR_EQ(rec[3], "즉시 안전한 장소로 이동하는 것을 고려하세요");
  char sum[256];
  vm__lang_summary_ko(&o, sum, sizeof sum);
  ASSERT_STR_EQ(sum, "심각한 위험 수준 감지됨 (점수: 85.0/100). 즉각적인 전문가 개입이 필요합니다.");
  return 0;
}

static int test_deception_baseline(void) {
  int none[5] = {0, 0, 0, 0, 0};
  ASSERT_NEAR(vm__lang_deception_score(none, 50), 0.0, 0); /* original: 0.2 */
  ASSERT_NEAR(vm__lang_deception_score(none, 0), 0.0, 0);
  int hedge[5] = {2, 0, 0, 0, 0};
  /* 2 of 40 words → rate 0.25 → 0.3·0.25 + 0.1 + 0.1 (no exclusive, no complexity) */
  ASSERT_NEAR(vm__lang_deception_score(hedge, 40), 0.075 + 0.2, 1e-12);
  /* short text: the absence terms are not evidence */
  ASSERT_NEAR(vm__lang_deception_score(hedge, 10), 0.3, 1e-12);
  int all[5] = {20, 20, 20, 20, 20};
  ASSERT_NEAR(vm__lang_deception_score(all, 40), 0.8, 1e-12);
  ASSERT_NEAR(vm__lang_round1(3.05), 3.1, 1e-12);
  ASSERT_NEAR(vm__lang_round1(2.8625), 2.9, 1e-12);
  return 0;
}

static void seg(vm__lang_segstat *s, double wc_threat, int n_threat, int words, double stress) {
  memset(s, 0, sizeof *s);
  s->wc[1] = wc_threat;
  s->n[1] = n_threat;
  s->words = words;
  s->stress = stress;
  s->voice_known = !isnan(stress);
}

static int test_reduce(void) {
  vm__lang_segstat st[3];
  seg(&st[0], 0.9, 1, 5, 80.0);
  seg(&st[1], 0.0, 0, 5, NAN);
  seg(&st[2], 0.9, 1, 5, 60.0);
  size_t idx[3] = {0, 1, 2};
  vm__lang_score_in in;
  vm__lang_stats_reduce(st, idx, 3, &in);
  ASSERT_NEAR(in.T, 1.8 / 5.0, 1e-12);
  ASSERT_EQ(in.nT, 2);
  ASSERT_NEAR(in.S, 0.7, 1e-12);
  ASSERT_EQ(in.stress_risk, 2); /* mean 70 > 66 */
  ASSERT_NEAR(in.K, 0.95, 0);   /* voice known, no discrepancy */
  ASSERT_NEAR(in.s, -0.4 * in.T, 1e-12);
  ASSERT(isnan(in.V));
  /* repeated indices count twice (bootstrap resamples) */
  size_t rep[2] = {0, 0};
  vm__lang_stats_reduce(st, rep, 2, &in);
  ASSERT_EQ(in.nT, 2);
  /* no voice anywhere: K 1 in formulas, 0.5 as confidence */
  size_t one[1] = {1};
  vm__lang_stats_reduce(st, one, 1, &in);
  ASSERT_NEAR(in.K, 1.0, 0);
  ASSERT_NEAR(in.K_conf, 0.5, 0);
  ASSERT_EQ(in.stress_risk, -1);
  /* discrepancies lower K */
  st[0].disc_w = 0.85 * 0.9;
  st[0].n_disc = 1;
  vm__lang_stats_reduce(st, idx, 3, &in);
  ASSERT_NEAR(in.K, 1.0 - 0.3 * 0.765, 1e-12);
  return 0;
}

static int test_bootstrap(void) {
  vm__lang_segstat st[20];
  size_t idx[20];
  for (int i = 0; i < 20; i++) {
    seg(&st[i], i % 4 == 0 ? 0.9 : 0.0, i % 4 == 0, 8, NAN);
    idx[i] = (size_t)i;
  }
  double a[2], b[2], c[2];
  ASSERT_OK(vm__lang_bootstrap_ci(st, idx, 20, 500, 42, a));
  ASSERT_OK(vm__lang_bootstrap_ci(st, idx, 20, 500, 42, b));
  ASSERT_OK(vm__lang_bootstrap_ci(st, idx, 20, 500, 7, c));
  ASSERT_NEAR(a[0], b[0], 0); /* same seed, same interval, bit for bit */
  ASSERT_NEAR(a[1], b[1], 0);
  ASSERT(a[0] != c[0] || a[1] != c[1]); /* another seed, another draw */
  vm__lang_score_in in;
  vm__lang_score_out o;
  vm__lang_stats_reduce(st, idx, 20, &in);
  vm__lang_score_compute(&in, &o);
  ASSERT(a[0] < o.overall); /* the point estimate lies inside */
  ASSERT(a[1] > o.overall);
  ASSERT(a[0] <= a[1]);
  /* identical segments: no spread */
  for (int i = 0; i < 20; i++) seg(&st[i], 0.9, 1, 8, NAN);
  ASSERT_OK(vm__lang_bootstrap_ci(st, idx, 20, 100, 1, a));
  ASSERT_NEAR(a[0], a[1], 1e-12);
  ASSERT_EQ(vm__lang_bootstrap_ci(st, idx, 1, 100, 1, a), VM_EINVAL);
  ASSERT_EQ(vm__lang_bootstrap_ci(st, idx, 20, 0, 1, a), VM_EINVAL);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_vector_a), TEST_ENTRY(test_vector_b), TEST_ENTRY(test_risk_levels),
          TEST_ENTRY(test_threat_assessment), TEST_ENTRY(test_critical_recommendations),
          TEST_ENTRY(test_deception_baseline), TEST_ENTRY(test_reduce),
          TEST_ENTRY(test_bootstrap))
