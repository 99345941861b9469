/* lang_crosscheck.c — text–voice discrepancy rules (original §6.6).
 *
 * DESIGN: the original compared the text with one whole-file emotion from
 * a neural model. Here each segment's text cues are compared with the
 * voice of that same segment: prosodic arousal as a z-like score against
 * the speaker's own baseline (supplied by the caller), mapped to 0..1 by
 * the logistic function so the original thresholds apply unchanged
 * (A < 0.3 ⇔ z < −0.85, "calmer than usual"; A > 0.7 ⇔ z > 0.85,
 * "raised"), and the stress index / 100. This is not an emotion model:
 * a raised voice stands in where the original asked for "angry" or
 * "fearful". Rules, at most one per group, in this order:
 *   intensity:  threat/coercion/extortion finding and A < 0.3 → critical 0.90
 *               else text intensity > 0.7 and A < 0.3        → high 0.80
 *   sentiment:  apology words and A > 0.7                    → high 0.85
 *               else comforting words and A > 0.7            → medium 0.75
 *   stress:     intensity < 0.3 and stress > 0.7              → medium 0.70
 *               else intensity > 0.7 and stress < 0.2         → low 0.60
 * The original's valence rules (joyful words in a sad voice, ...) need a
 * valence measure that we do not have, so they are not evaluated.
 */
#include <math.h>

#include "lang_impl.h"

double vm__lang_arousal01(double z) { return 1.0 / (1.0 + exp(-z)); }

double vm__lang_severity_weight(int s) {
  static const double w[] = {0.15, 0.35, 0.60, 0.85};
  return s >= 0 && s <= VM__LANG_SEV_CRITICAL ? w[s] : 0.0;
}

const char *vm__lang_severity_name(int s) {
  static const char *const n[] = {"low", "medium", "high", "critical"};
  return s >= 0 && s <= VM__LANG_SEV_CRITICAL ? n[s] : "low";
}

size_t vm__lang_crosscheck(const vm__lang_cues *c, const vm_lang_voice *v, vm__lang_disc out[4]) {
  size_t n = 0;
  if (!v) return 0;
  if (!isnan(v->arousal)) {
    double a = vm__lang_arousal01(v->arousal);
    if (c->threat_or_coercion && a < 0.3)
      out[n++] = (vm__lang_disc){"threat_calm_voice",
                                 "위협적인 발언이지만 목소리는 평소보다 차분함",
                                 VM__LANG_SEV_CRITICAL, 0.90};
    else if (c->intensity > 0.7 && a < 0.3)
      out[n++] = (vm__lang_disc){"intense_text_calm_voice",
                                 "강한 표현이지만 목소리는 평소보다 차분함", VM__LANG_SEV_HIGH,
                                 0.80};
    if (c->remorse && a > 0.7)
      out[n++] = (vm__lang_disc){"apology_raised_voice",
                                 "사과 표현이지만 목소리는 평소보다 격앙됨", VM__LANG_SEV_HIGH,
                                 0.85};
    else if (c->comfort && a > 0.7)
      out[n++] = (vm__lang_disc){"comfort_raised_voice",
                                 "안심시키는 말이지만 목소리는 평소보다 긴장·격앙됨",
                                 VM__LANG_SEV_MEDIUM, 0.75};
  }
  if (!isnan(v->stress_index)) {
    double s = v->stress_index / 100.0;
    if (c->intensity < 0.3 && s > 0.7)
      out[n++] = (vm__lang_disc){"calm_text_high_stress",
                                 "평온한 내용이지만 음성 스트레스 지표가 높음",
                                 VM__LANG_SEV_MEDIUM, 0.70};
    else if (c->intensity > 0.7 && s < 0.2)
      out[n++] = (vm__lang_disc){"intense_text_low_stress",
                                 "강한 내용이지만 음성 스트레스 지표가 낮음", VM__LANG_SEV_LOW,
                                 0.60};
  }
  return n;
}
