/* lang_score.c — the risk formulas, risk levels and Korean texts.
 *
 * DESIGN: vm__lang_score_compute() is a pure function of the formula
 * inputs (vm__lang_score_in) and reproduces the original system's
 * scoring (reference §6.7; test vectors §6.8 in
 * tests/unit/test_forensic_lang_score.c). Where the original was unsound
 * the change is here and documented in docs/language.md "Scores":
 *   - the threat category uses the same stress-amplified threat score as
 *     the threat level (the original used 100·T for one, TS for the other);
 *   - emotional manipulation is measured from the matches of types marked
 *     "emotional" in the data (E) instead of 50·(C+G), which counted
 *     gaslighting and coercion twice;
 *   - valence is not measured, so the emotional-incongruence term is 0
 *     and emotional_authenticity is reported as unknown (NAN → null);
 *   - the deception marker score gives 0, not 0.2, to a text without
 *     markers (vm__lang_deception_score).
 * Which evidence feeds the inputs is lang_stats.c's business.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lang_impl.h"

static double clamp(double x, double lo, double hi) {
  return x < lo ? lo : x > hi ? hi : x;
}

int vm__lang_risk_level(double s) {
  if (s <= 20.0) return VM__LANG_RISK_MINIMAL;
  if (s <= 40.0) return VM__LANG_RISK_LOW;
  if (s <= 60.0) return VM__LANG_RISK_MODERATE;
  if (s <= 80.0) return VM__LANG_RISK_HIGH;
  return VM__LANG_RISK_CRITICAL;
}

const char *vm__lang_risk_name(int r) {
  static const char *const n[] = {"minimal", "low", "moderate", "high", "critical"};
  return r >= 0 && r <= VM__LANG_RISK_CRITICAL ? n[r] : "minimal";
}

const char *vm__lang_risk_name_ko(int r) {
  static const char *const n[] = {"최소", "낮음", "중간", "높음", "심각"};
  return r >= 0 && r <= VM__LANG_RISK_CRITICAL ? n[r] : "최소";
}

const char *vm__lang_cat_name(int c) {
  static const char *const n[] = {"gaslighting", "threat", "coercion", "deception",
                                  "emotional_manipulation"};
  return c >= 0 && c < VM__LANG_N_CATS ? n[c] : "";
}

static const char *cat_name_ko(int c) {
  static const char *const n[] = {"가스라이팅", "협박", "강요", "기만", "정서적 조작"};
  return c >= 0 && c < VM__LANG_N_CATS ? n[c] : "";
}

double vm__lang_round1(double x) {
  /* half away from zero; the 1e-9 absorbs binary noise (3.05 → 3.1) */
  double r = floor(fabs(x) * 10.0 + 0.5 + 1e-9) / 10.0;
  return x < 0 ? -r : r;
}

double vm__lang_deception_score(const int counts[5], int words) {
  double w = words > 0 ? (double)words : 1.0;
  double rate[5];
  for (int i = 0; i < 5; i++) rate[i] = fmin(1.0, counts[i] / w * 5.0);
  double d = 0.3 * rate[0] + 0.3 * rate[1] + 0.2 * rate[2];
  /* The absence terms (fewer exclusive words, less cognitive complexity)
   * are only evidence beside a positive marker and in enough text; the
   * original added 0.2 for any text without markers (§16 #22). */
  if (d > 0.0 && words >= 20) d += 0.1 * (1.0 - rate[3]) + 0.1 * (1.0 - rate[4]);
  return clamp(d, 0.0, 1.0);
}

static void threat_assess(const vm__lang_score_in *in, vm__lang_score_out *o) {
  int high = in->stress_risk == 2;
  double factor = high ? 1.2 : in->stress_risk == 1 ? 1.1 : 1.0;
  o->TS = fmin(100.0, 100.0 * in->T * factor);
  o->threat_level = vm__lang_risk_level(o->TS);
  o->immediacy = (in->T > 0.8 && high) ? "immediate" : in->T > 0.5 ? "near-term" : "long-term";
  o->specificity = in->nT >= 3 ? "detailed" : in->nT >= 1 ? "specific" : "vague";
  o->credibility = fmin(1.0, in->T + 0.1 * in->nT);
  if (high) o->credibility = fmin(1.0, o->credibility + 0.1);
}

void vm__lang_score_compute(const vm__lang_score_in *in, vm__lang_score_out *o) {
  memset(o, 0, sizeof *o);
  double K = in->K, inc = 1.0 - K;
  /* gaslighting intensity: pattern 0.40, emotional manipulation 0.30,
   * recurrence 0.20, inconsistency 0.10 */
  o->GI = clamp(100.0 * (0.40 * in->G + 0.30 * (0.5 * in->C + 0.5 * inc) +
                         0.20 * fmin(in->nG / 5.0, 1.0) + 0.10 * inc),
                0.0, 100.0);
  o->victim_impact = vm__lang_risk_level(o->GI);
  /* deception probability: inconsistency 0.35, markers 0.30, emotional
   * incongruence 0.25, stress 0.10 */
  double sn = (in->s + 1.0) / 2.0;
  int valence = !isnan(in->V);
  o->ediff = valence ? fabs(sn - in->V) : 0.0;
  o->DP = clamp(0.35 * inc + 0.30 * in->D + 0.25 * o->ediff + 0.10 * in->S, 0.0, 1.0);
  o->emotional_authenticity = valence ? clamp(1.0 - o->ediff, 0.0, 1.0) : NAN;
  threat_assess(in, o);

  vm__lang_cat *c = o->cat;
  c[VM__LANG_CAT_GASLIGHTING] = (vm__lang_cat){o->GI, fmin(1.0, in->G + 0.3), in->nG};
  c[VM__LANG_CAT_THREAT] = (vm__lang_cat){o->TS, fmin(1.0, in->T + 0.3), in->nT};
  c[VM__LANG_CAT_COERCION] = (vm__lang_cat){100.0 * in->C, fmin(1.0, in->C + 0.3), in->nC};
  c[VM__LANG_CAT_DECEPTION] = (vm__lang_cat){100.0 * o->DP, in->K_conf, (int)(10.0 * in->D)};
  c[VM__LANG_CAT_EMOTIONAL] = (vm__lang_cat){100.0 * in->E, 0.7, in->nE};
  static const double w[VM__LANG_N_CATS] = {0.25, 0.25, 0.20, 0.20, 0.10};
  double sum = 0.0, conf = 0.0;
  int ev = 0;
  for (int i = 0; i < VM__LANG_N_CATS; i++) {
    sum += w[i] * c[i].score;
    conf += c[i].confidence;
    ev += c[i].evidence_count;
  }
  o->overall = clamp(sum, 0.0, 100.0);
  o->risk = vm__lang_risk_level(o->overall);
  o->confidence = clamp(0.4 * conf / VM__LANG_N_CATS + 0.3 * fmin(1.0, ev / 10.0) +
                        0.3 * in->K_conf, 0.0, 1.0);
  if (o->risk >= VM__LANG_RISK_HIGH) o->flags |= VM__LANG_FLAG_HIGH_RISK;
  if (o->GI >= 60.0) o->flags |= VM__LANG_FLAG_GASLIGHTING;
  if (o->threat_level >= VM__LANG_RISK_HIGH) o->flags |= VM__LANG_FLAG_THREAT;
  if (o->DP >= 0.6) o->flags |= VM__LANG_FLAG_DECEPTION;
  if (in->stress_indicator) o->flags |= VM__LANG_FLAG_HIGH_STRESS;
}

void vm__lang_summary_ko(const vm__lang_score_out *o, char *buf, size_t len) {
  static const char *const head[][2] = {
      {"최소 위험 수준", "특별한 위험 패턴이 감지되지 않았습니다."},
      {"낮은 위험 수준", "일부 주의 패턴이 감지되었습니다."},
      {"중간 위험 수준 감지됨", "주의 깊은 관찰이 필요합니다."},
      {"높은 위험 수준 감지됨", "전문가 상담을 권장합니다."},
      {"심각한 위험 수준 감지됨", "즉각적인 전문가 개입이 필요합니다."},
  };
  int r = o->risk < 0 || o->risk > VM__LANG_RISK_CRITICAL ? 0 : o->risk;
  int n = snprintf(buf, len, "%s (점수: %.1f/100). %s", head[r][0], vm__lang_round1(o->overall),
                   head[r][1]);
  int first = 1;
  for (int i = 0; i < VM__LANG_N_CATS && n >= 0 && (size_t)n < len; i++) {
    if (o->cat[i].score < 60.0) continue;
    n += snprintf(buf + n, len - (size_t)n, "%s%s", first ? " 주요 위험 영역: " : ", ",
                  cat_name_ko(i));
    first = 0;
  }
}

size_t vm__lang_recommendations_ko(const vm__lang_score_out *o, const char **out, size_t max) {
  size_t n = 0;
#define ADD(s) do { if (n < max) out[n++] = (s); } while (0)
  if (o->risk >= VM__LANG_RISK_HIGH) {
    ADD("전문 상담사 또는 법률 전문가와 상담하시기 바랍니다");
    ADD("모든 대화 기록을 안전하게 보관하세요");
    ADD("신뢰할 수 있는 가족이나 친구에게 상황을 공유하세요");
  }
  if (o->risk == VM__LANG_RISK_CRITICAL) {
    ADD("즉시 안전한 장소로 이동하는 것을 고려하세요");
    ADD("필요시 관련 기관(경찰, 상담센터)에 연락하세요");
  }
  if (o->cat[VM__LANG_CAT_GASLIGHTING].score >= 50.0)
    ADD("가스라이팅 패턴이 감지되었습니다. 심리 상담을 고려해보세요");
  if (o->cat[VM__LANG_CAT_THREAT].score >= 50.0)
    ADD("위협 패턴이 감지되었습니다. 법적 조언을 구하시기 바랍니다");
  if (o->cat[VM__LANG_CAT_COERCION].score >= 50.0)
    ADD("강압 패턴이 감지되었습니다. 지원 네트워크를 활용하세요");
  if (n == 0) {
    ADD("현재 특별한 조치가 필요하지 않습니다");
    ADD("정기적인 자기 점검을 권장합니다");
  }
#undef ADD
  return n;
}
