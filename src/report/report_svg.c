/* report_svg.c — the report's figures as inline SVG: the conversation
 * time line (speaker turns, flagged utterances, escalation zones) and the
 * F0 and intensity contours over time.
 *
 * DESIGN
 * Every figure is drawn in a fixed 1000-unit-wide viewBox and scaled to
 * the page by CSS, so the SVG text does not depend on the screen. Sizes
 * stay bounded for any length of recording:
 *  - turns of one speaker closer than half a unit are drawn as one bar
 *    (a 1 h call with thousands of turns gives at most ~900 bars a lane);
 *  - contours (one value per 10 ms: 360 000 for 1 h) are averaged into at
 *    most VM__PLOT_POINTS buckets (mean of the voiced values in a bucket,
 *    a gap where a bucket has none), so a plot holds at most that many
 *    points whatever the duration.
 * Flagged utterances are links to their transcript line (#seg-N); every
 * text in a <title> tooltip is escaped like any other text.
 */
#include <math.h>
#include <string.h>

#include "report_html_impl.h"
#include "vm_alloc.h"

#define VM__PLOT_POINTS 2000
#define SVG_W 1000.0
#define PLOT_L 110.0 /* left margin of the time line (lane names) */
#define PLOT_R 10.0
#define LANE_H 22.0
#define LANE_GAP 6.0
#define MAX_LANES 16

typedef struct axis {
  double t_max;  /* seconds at the right edge */
  double x0, w;  /* plot area left and width, viewBox units */
} axis;

static double ax_x(const axis *a, double t) {
  if (!isfinite(t) || t < 0) t = 0;
  if (t > a->t_max) t = a->t_max;
  return a->x0 + a->w * t / a->t_max;
}

/* A round tick step giving at most ~10 ticks over d seconds. */
static double tick_step(double d) {
  static const double steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200};
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
    if (d / steps[i] <= 10) return steps[i];
  return ceil(d / 10 / 3600) * 3600;
}

static void time_axis(vm__hbuf *b, const axis *a, double y) {
  double step = tick_step(a->t_max);
  vm__hb_printf(b, "<g class=\"axis\" font-size=\"11\" fill=\"#6b7280\">"
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9ca3af\"/>",
                a->x0, y, a->x0 + a->w, y);
  for (double t = 0; t <= a->t_max + 1e-9; t += step) {
    double x = ax_x(a, t);
    vm__hb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9ca3af\"/>"
                     "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                  x, y, x, y + 4, x, y + 15);
    long ts = lround(t);
    if (ts >= 3600) vm__hb_printf(b, "%ld:%02ld:%02ld</text>", ts / 3600, ts / 60 % 60, ts % 60);
    else vm__hb_printf(b, "%ld:%02ld</text>", ts / 60, ts % 60);
  }
  vm__hb_put(b, "</g>");
}


static void bar(vm__hbuf *b, double x0, double x1, double y, double h, const char *fill,
                const char *label, double t0, double t1) {
  vm__hb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">",
                x0, y, fmax(x1 - x0, 1.0), h, fill);
  if (label) {
    vm__hb_put(b, "<title>");
    vm__hb_text(b, label);
    vm__hb_put(b, " ");
    vm__hb_time(b, t0);
    vm__hb_put(b, "–");
    vm__hb_time(b, t1);
    vm__hb_put(b, "</title>");
  }
  vm__hb_put(b, "</rect>");
}

/* Draws the turns of speaker k (or of everyone when k < 0) in one array
 * of {start, end, speaker} at y..y+h, merging bars less than half a unit
 * apart. */
static void draw_turn_array(vm__rctx *c, const json_t *turns, const axis *a, long k, double y,
                            double h, int titles) {
  const json_t *e;
  size_t i;
  double px0 = -1, px1 = -1, t0 = 0, t1 = 0;
  size_t pk = 0;
  json_array_foreach(turns, i, e) {
    const char *s = vm__jstr(e, "speaker");
    size_t sk = vm__spk_index(c->spk, s);
    if (!s || (k >= 0 && sk != (size_t)k)) continue;
    double s0 = vm__jnum(e, "start"), s1 = vm__jnum(e, "end");
    if (!isfinite(s0) || !isfinite(s1)) continue;
    double x0 = ax_x(a, s0), x1 = ax_x(a, s1);
    if (px1 >= 0 && x0 - px1 < 0.5 && sk == pk) {
      px1 = fmax(px1, x1);
      t1 = fmax(t1, s1);
      continue;
    }
    if (px1 >= 0)
      bar(c->b, px0, px1, y, h, vm__spk_colour(pk), titles ? c->spk->labels[pk] : NULL, t0, t1);
    px0 = x0, px1 = x1, t0 = s0, t1 = s1, pk = sk;
  }
  if (px1 >= 0)
    bar(c->b, px0, px1, y, h, vm__spk_colour(pk), titles ? c->spk->labels[pk] : NULL, t0, t1);
}

/* Speaking time of speaker k (k < 0: everyone): the diarization turns and
 * the transcript's segments. Both are drawn because a transcript made
 * elsewhere may name speakers the voice-based diarization does not; where
 * they agree the bars coincide. */
static void draw_turns(vm__rctx *c, const axis *a, long k, double y, double h, int titles) {
  draw_turn_array(c, vm__jget(c->r, "diarization.turns"), a, k, y, h, titles);
  draw_turn_array(c, vm__jget(c->r, "transcript.segments"), a, k, y, h, titles);
}

static const char *match_colour(const char *type) {
  if (!type) return "#6b7280";
  if (!strcmp(type, "threat")) return "#dc2626";
  if (!strcmp(type, "gaslighting")) return "#7c3aed";
  if (!strcmp(type, "coercion")) return "#b45309";
  if (!strcmp(type, "deception")) return "#0891b2";
  if (!strcmp(type, "insult")) return "#db2777";
  if (!strcmp(type, "extortion")) return "#7f1d1d";
  if (!strcmp(type, "fraud")) return "#4d7c0f";
  return "#6b7280";
}

static void draw_matches(vm__rctx *c, const axis *a, double y) {
  const json_t *ms = vm__jget(c->r, "language.matches"), *m;
  size_t i;
  json_array_foreach(ms, i, m) {
    double t0 = vm__jnum(m, "start"), t1 = vm__jnum(m, "end");
    if (!isfinite(t0)) continue;
    if (!isfinite(t1) || t1 < t0) t1 = t0;
    double seg = vm__jnum(m, "segment");
    long an = vm__seg_anchor(c->r, isfinite(seg) ? (long)seg : -1, t0);
    double x0 = ax_x(a, t0), x1 = fmax(ax_x(a, t1), x0 + 3);
    if (an >= 0) vm__hb_printf(c->b, "<a href=\"#seg-%ld\">", an);
    vm__hb_printf(c->b, "<rect class=\"flag\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"%s\"><title>",
                  x0, y, x1 - x0, LANE_H, match_colour(vm__jstr(m, "type")));
    const char *label = vm__jstr(m, "label_ko");
    vm__hb_text(c->b, label ? label : vm__jstr(m, "type"));
    vm__hb_put(c->b, " — ");
    vm__hb_text_cut(c->b, vm__jstr(m, "text"), 80);
    vm__hb_put(c->b, "</title></rect>");
    if (an >= 0) vm__hb_put(c->b, "</a>");
  }
}

/* Escalation zones: a band over [y_band, y_band + h_band] (behind the
 * lanes) and, when lane_y >= 0, a bar in their own lane. */
static void draw_zones(vm__rctx *c, const axis *a, double y_band, double h_band, double lane_y) {
  const json_t *zs = vm__jget(c->r, "escalation.zones"), *z;
  size_t i;
  json_array_foreach(zs, i, z) {
    double t0 = vm__jnum(z, "start"), t1 = vm__jnum(z, "end");
    if (!isfinite(t0)) t0 = vm__jnum(z, "start_s");
    if (!isfinite(t1)) t1 = vm__jnum(z, "end_s");
    if (!isfinite(t0) || !isfinite(t1)) continue;
    double x0 = ax_x(a, t0), x1 = ax_x(a, t1);
    vm__hb_printf(c->b, "<rect class=\"zone-band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                        "height=\"%.1f\" fill=\"#fed7aa\" opacity=\"0.6\"/>",
                  x0, y_band, fmax(x1 - x0, 1.0), h_band);
    if (lane_y < 0) continue;
    vm__hb_printf(c->b, "<rect class=\"zone\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"#ea580c\"><title>고조 구간 ",
                  x0, lane_y, fmax(x1 - x0, 1.0), LANE_H);
    vm__hb_text(c->b, vm__jstr(z, "speaker"));
    vm__hb_put(c->b, " ");
    vm__hb_time(c->b, t0);
    vm__hb_put(c->b, "–");
    vm__hb_time(c->b, t1);
    vm__hb_num(c->b, vm__jnum(z, "intensity_rise_db"), ", 강도 +%.1f", " dB");
    vm__hb_num(c->b, vm__jnum(z, "f0_rise_st"), ", 음높이 +%.1f", " st");
    vm__hb_put(c->b, "</title></rect>");
  }
}

static void lane_label(vm__hbuf *b, double y, const char *text, int escape) {
  vm__hb_printf(b, "<text x=\"4\" y=\"%.1f\" font-size=\"12\" fill=\"#1f2937\">", y + 15);
  if (escape) vm__hb_text_cut(b, text, 14);
  else vm__hb_put(b, text);
  vm__hb_put(b, "</text>");
}

void vm__sec_timeline(vm__rctx *c) {
  vm__hbuf *b = c->b;
  vm__hb_put(b, "<section id=\"timeline\"><h2>대화 타임라인</h2>");
  if (!isfinite(c->duration_s) || c->duration_s <= 0) {
    vm__hb_put(b, "<p class=\"na\">" VM__NA "</p></section>\n");
    return;
  }
  axis a = {c->duration_s, PLOT_L, SVG_W - PLOT_L - PLOT_R};
  size_t n_lanes = c->spk->n < MAX_LANES ? c->spk->n : MAX_LANES;
  double y_find = 8 + (double)n_lanes * (LANE_H + LANE_GAP);
  double y_zone = y_find + LANE_H + LANE_GAP, y_axis = y_zone + LANE_H + 8;
  vm__hb_printf(b, "<figure><svg id=\"timeline-svg\" role=\"img\" aria-label=\"대화 타임라인\" "
                   "xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\">",
                SVG_W, y_axis + 24);
  draw_zones(c, &a, 4, y_axis - 4, -1);
  for (size_t k = 0; k < n_lanes; k++) {
    double y = 8 + (double)k * (LANE_H + LANE_GAP);
    lane_label(b, y, c->spk->labels[k], 1);
    draw_turns(c, &a, (long)k, y, LANE_H, 1);
  }
  lane_label(b, y_find, "발견 발화", 0);
  draw_matches(c, &a, y_find);
  lane_label(b, y_zone, "고조 구간", 0);
  draw_zones(c, &a, 0, 0, y_zone);
  time_axis(b, &a, y_axis);
  vm__hb_put(b, "</svg><figcaption class=\"legend\">");
  for (size_t k = 0; k < c->spk->n; k++) {
    vm__hb_spk_chip(b, c->spk, c->spk->labels[k]);
    vm__hb_put(b, " ");
  }
  vm__hb_put(b, "<span><i class=\"sw\" style=\"background:#dc2626\"></i>협박</span>"
                "<span><i class=\"sw\" style=\"background:#7c3aed\"></i>가스라이팅</span>"
                "<span><i class=\"sw\" style=\"background:#b45309\"></i>강요</span>"
                "<span><i class=\"sw\" style=\"background:#db2777\"></i>모욕</span>"
                "<span><i class=\"sw\" style=\"background:#7f1d1d\"></i>공갈</span>"
                "<span><i class=\"sw\" style=\"background:#4d7c0f\"></i>사기</span>"
                "<span><i class=\"sw\" style=\"background:#ea580c\"></i>고조 구간</span>");
  if (c->spk->n > MAX_LANES) vm__hb_printf(b, " (화자 %d명까지 표시)", MAX_LANES);
  vm__hb_put(b, "</figcaption></figure></section>\n");
}

/* ---- contours ------------------------------------------------------------- */

size_t vm__contour_downsample(const double *v, size_t n, double step_s, size_t max_out,
                              double *out_t, double *out_v) {
  size_t nb = n < max_out ? n : max_out;
  for (size_t k = 0; k < nb; k++) {
    size_t i0 = k * n / nb, i1 = (k + 1) * n / nb;
    double sum = 0;
    size_t cnt = 0;
    for (size_t i = i0; i < i1; i++)
      if (isfinite(v[i])) sum += v[i], cnt++;
    out_t[k] = ((double)i0 + (double)(i1 - 1)) / 2 * step_s;
    out_v[k] = cnt ? sum / (double)cnt : NAN;
  }
  return nb;
}

/* Nice y range and step for values in [lo, hi]. */
static void y_range(double lo, double hi, double *out_lo, double *out_hi, double *out_step) {
  static const double steps[] = {1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000};
  double span = fmax(hi - lo, 1e-9), step = steps[10];
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
    if (span / steps[i] <= 6) {
      step = steps[i];
      break;
    }
  *out_lo = floor(lo / step) * step;
  *out_hi = ceil(hi / step) * step;
  if (*out_hi <= *out_lo) *out_hi = *out_lo + step;
  *out_step = step;
}

#define PLOT_H 180.0
#define PLOT_T 10.0

static void polyline_points(vm__hbuf *b, const axis *a, const double *t, const double *v,
                            size_t n, double lo, double hi, const char *colour) {
  size_t i = 0;
  while (i < n) {
    while (i < n && !isfinite(v[i])) i++;
    size_t j = i;
    while (j < n && isfinite(v[j])) j++;
    if (j == i + 1) {
      vm__hb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.2\" fill=\"%s\"/>", ax_x(a, t[i]),
                    PLOT_T + PLOT_H * (1 - (v[i] - lo) / (hi - lo)), colour);
    } else if (j > i) {
      vm__hb_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.2\" points=\"",
                    colour);
      for (size_t k = i; k < j; k++)
        vm__hb_printf(b, "%s%.1f,%.1f", k > i ? " " : "", ax_x(a, t[k]),
                      PLOT_T + PLOT_H * (1 - (v[k] - lo) / (hi - lo)));
      vm__hb_put(b, "\"/>");
    }
    i = j;
  }
}

/* One plot of the contour at key ("f0_hz" or "intensity_db"). */
static void contour_plot(vm__rctx *c, const char *key, const char *title, const char *unit,
                         const char *colour, const char *id) {
  vm__hbuf *b = c->b;
  const json_t *arr = json_object_get(vm__jget(c->r, "contours"), key);
  double step = vm__jnum(c->r, "contours.step_s");
  size_t n = json_array_size(arr);
  vm__hb_printf(b, "<h3>%s</h3>", title);
  if (!json_is_array(arr) || n == 0 || !isfinite(step) || step <= 0) {
    vm__hb_put(b, "<p class=\"na\">" VM__NA "</p>");
    return;
  }
  double *v = vm_malloc(n * sizeof *v), *ot = vm_malloc(VM__PLOT_POINTS * sizeof *ot),
         *ov = vm_malloc(VM__PLOT_POINTS * sizeof *ov);
  if (!v || !ot || !ov) {
    b->failed = 1;
    goto out;
  }
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; i++) v[i] = vm__jval(json_array_get(arr, i));
  size_t m = vm__contour_downsample(v, n, step, VM__PLOT_POINTS, ot, ov);
  for (size_t k = 0; k < m; k++)
    if (isfinite(ov[k])) lo = fmin(lo, ov[k]), hi = fmax(hi, ov[k]);
  if (!isfinite(lo)) {
    vm__hb_put(b, "<p class=\"na\">" VM__NA " (유성 구간 없음)</p>");
    goto out;
  }
  /* Intensity falls by 100 dB and more into the near-silence between
   * words; showing that would flatten the speech. The axis spans the top
   * 60 dB and lower values are drawn at its floor. */
  if (!strcmp(key, "intensity_db") && lo < hi - 60) {
    lo = hi - 60;
    for (size_t k = 0; k < m; k++)
      if (isfinite(ov[k]) && ov[k] < lo) ov[k] = lo;
  }
  double ylo, yhi, ystep;
  y_range(lo, hi, &ylo, &yhi, &ystep);
  double t_max = isfinite(c->duration_s) ? fmax(c->duration_s, (double)n * step) : (double)n * step;
  axis a = {t_max, 60, SVG_W - 60 - PLOT_R};
  vm__hb_printf(b, "<figure><svg id=\"%s\" role=\"img\" aria-label=\"%s\" "
                   "xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\">",
                id, title, SVG_W, PLOT_T + PLOT_H + 34);
  draw_zones(c, &a, PLOT_T, PLOT_H, -1);
  vm__hb_put(b, "<g font-size=\"11\" fill=\"#6b7280\">");
  for (double y = ylo; y <= yhi + 1e-9; y += ystep) {
    double py = PLOT_T + PLOT_H * (1 - (y - ylo) / (yhi - ylo));
    vm__hb_printf(b, "<line x1=\"60\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e7eb\"/>"
                     "<text x=\"56\" y=\"%.1f\" text-anchor=\"end\">%g</text>",
                  py, SVG_W - PLOT_R, py, py + 4, y);
  }
  vm__hb_printf(b, "<text x=\"4\" y=\"%.1f\">%s</text></g>", PLOT_T + 10, unit);
  polyline_points(b, &a, ot, ov, m, ylo, yhi, colour);
  draw_turns(c, &a, -1, PLOT_T + PLOT_H + 2, 4, 0);
  time_axis(b, &a, PLOT_T + PLOT_H + 8);
  vm__hb_printf(b, "</svg><figcaption>%zu개 값(%.0f ms 간격)", n, step * 1000);
  if (m < n) vm__hb_printf(b, ", 표시를 위해 %zu개 구간 평균으로 축약", m);
  vm__hb_put(b, ". 음영: 고조 구간, 아래 띠: 화자 발화.</figcaption></figure>");
out:
  vm_free(v);
  vm_free(ot);
  vm_free(ov);
}

void vm__sec_contours(vm__rctx *c) {
  vm__hb_put(c->b, "<section id=\"contours\"><h2>음높이(F0)와 강도 변화</h2>");
  contour_plot(c, "f0_hz", "기본 주파수 F0", "Hz", "#1d4ed8", "f0-plot");
  contour_plot(c, "intensity_db", "음성 강도", "dB", "#b91c1c", "intensity-plot");
  vm__hb_put(c->b, "</section>\n");
}
