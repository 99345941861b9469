/* test_forensic_lang_match.c — pattern database loading, normalisation and
 * matching: Korean sentences for every finding type, spacing, ending and
 * spelling variants that must match, near misses that must not, template
 * slots, "어" inside words, decomposed (NFD) input.
 *
 *   ctest --test-dir build -R test_forensic_lang_match --output-on-failure
 */
#include <string.h>

#include "lang_impl.h"
#include "test.h"
#include "vm_alloc.h"

static vm_lang_db *g_db;

static int open_db(void) {
  if (g_db) return 0;
  vm_err err;
  int rc = vm_lang_db_open(VM_SOURCE_DIR "/data/patterns", &g_db, &err);
  if (rc != VM_OK) fprintf(stderr, "open: %s\n", err.msg);
  return rc;
}

/* Number of raw matches of family.type (type NULL: any) in text. When
 * out_text is given, the first match's original text is copied there. */
static int count(const char *text, const char *family, const char *type, char *out_text,
                 size_t out_len) {
  vm__lang_text t;
  vm__lang_hits h = {0};
  if (vm__lang_text_init(&t, text, strlen(text)) != VM_OK) return -1;
  int fam = vm__lang_family_find(g_db, family);
  int n = -1;
  if (fam >= 0 && vm__lang_match_text(g_db, &t, 0, fam, &h) == VM_OK) {
    n = 0;
    for (size_t i = 0; i < h.n; i++) {
      const vm__lang_pattern *p = &g_db->patterns[h.items[i].pattern];
      if (type && strcmp(g_db->families[fam].types[p->type].id, type) != 0) continue;
      if (n == 0 && out_text) {
        size_t b0 = t.b0[h.items[i].c0], b1 = t.b1[h.items[i].c1 - 1];
        snprintf(out_text, out_len, "%.*s", (int)(b1 - b0), text + b0);
      }
      n++;
    }
  }
  vm__lang_hits_deinit(&h);
  vm__lang_text_deinit(&t);
  return n;
}

static int test_db_opens(void) {
  ASSERT_OK(open_db());
  ASSERT_STR_EQ(vm_lang_db_version(g_db), "ko-1.1.0");
  ASSERT_GT(vm_lang_db_pattern_count(g_db), 300);
  ASSERT_GT(vm_lang_db_variant_count(g_db), vm_lang_db_pattern_count(g_db));
  /* the families the scores need, with the original's type counts */
  ASSERT_EQ(g_db->families[g_db->fam_gaslighting].n_types, 7);
  ASSERT_EQ(g_db->families[g_db->fam_threat].n_types, 5);
  ASSERT_EQ(g_db->families[g_db->fam_coercion].n_types, 3);
  ASSERT_EQ(g_db->families[g_db->fam_deception].n_types, 5);
  return 0;
}

static int test_db_default_dir(void) {
  vm_lang_db *db = NULL;
  vm_err err;
  ASSERT_OK(vm_lang_db_open(NULL, &db, &err)); /* source tree fallback */
  ASSERT_STR_EQ(vm_lang_db_version(db), "ko-1.1.0");
  vm_lang_db_close(db);
  return 0;
}

/* One natural sentence per finding type. */
static int test_every_type_matches(void) {
  ASSERT_OK(open_db());
  static const char *const cases[][3] = {
      {"gaslighting", "denial", "야, 난 그런 적 없어."},
      {"gaslighting", "countering", "네가 착각하는 거야 그건."},
      {"gaslighting", "trivializing", "넌 너무 예민해. 별일 아니야."},
      {"gaslighting", "diverting", "그래서 뭐 어쩌라고?"},
      {"gaslighting", "blocking", "시끄러워, 입 다물어!"},
      {"gaslighting", "blame_shifting", "이게 다 네 탓이야."},
      {"gaslighting", "reality_distortion", "다 널 위해서야, 알겠어?"},
      {"threat", "direct", "한 번만 더 그러면 죽여버릴 거야."},
      {"threat", "conditional", "만약 돈 안 주면 가만 안 둬."},
      {"threat", "veiled", "내가 어떤 사람인지 알잖아."},
      {"threat", "economic", "너 회사에서 잘릴 거야."},
      {"threat", "social", "네 비밀 다 폭로할 거야."},
      {"coercion", "emotional", "나한테 왜 이래 진짜."},
      {"coercion", "guilt_induction", "내가 그동안 얼마나 참았는데."},
      {"coercion", "isolation", "그 친구 만나지 마."},
      {"insult", "contempt", "이 멍청한 놈아."},
      {"insult", "profanity", "이 병신아."},
      {"extortion", "demand", "내일까지 돈 보내."},
      {"extortion", "exposure", "사진 다 뿌릴 거야."},
      {"fraud", "guarantee", "이건 원금 보장이야, 무조건 돈 버는 거야."},
      {"fraud", "pressure", "지금 아니면 늦어."},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int n = count(cases[i][2], cases[i][0], cases[i][1], NULL, 0);
    if (n < 1) fprintf(stderr, "no %s.%s in \"%s\"\n", cases[i][0], cases[i][1], cases[i][2]);
    ASSERT_GE(n, 1);
  }
  return 0;
}

static int test_spacing_and_endings(void) {
  ASSERT_OK(open_db());
  char got[128];
  /* spacing and punctuation do not matter; the original text is returned */
  ASSERT_EQ(count("그런적없어!!", "gaslighting", "denial", got, sizeof got), 1);
  ASSERT_STR_EQ(got, "그런적없어");
  ASSERT_EQ(count("음... 그런 적없어요.", "gaslighting", "denial", got, sizeof got), 1);
  ASSERT_STR_EQ(got, "그런 적없어요");
  /* ending rules: 거야 → 겁니다 / 거예요, 둬 → 두겠어, 해 → 하세요 */
  ASSERT_EQ(count("죽여버릴 겁니다.", "threat", "direct", NULL, 0), 1);
  ASSERT_EQ(count("후회하게 될 거예요", "threat", "direct", NULL, 0), 1);
  ASSERT_EQ(count("가만 안 두겠어", "threat", "direct", NULL, 0), 1);
  ASSERT_EQ(count("말대꾸하지 마세요", "gaslighting", "blocking", NULL, 0), 1);
  /* spelling: 네가 → 니가, 거야 → 꺼야 */
  ASSERT_EQ(count("니가 그렇게 만든 꺼야", "gaslighting", "blame_shifting", NULL, 0), 1);
  /* question mark in the pattern is punctuation: "그 정도로 화내?" */
  ASSERT_EQ(count("그 정도로 화내", "gaslighting", "trivializing", NULL, 0), 1);
  return 0;
}

static int test_near_misses(void) {
  ASSERT_OK(open_db());
  /* "어" is a hesitation only as a word of its own */
  ASSERT_EQ(count("어디 가? 밥 먹어.", "deception", "hedging", NULL, 0), 0);
  ASSERT_EQ(count("어, 그게 말이야", "deception", "hedging", NULL, 0), 2);
  ASSERT_EQ(count("음 글쎄", "deception", "hedging", NULL, 0), 2);
  /* ends inside a longer word */
  ASSERT_EQ(count("이제 그만해도 돼", "gaslighting", "blocking", NULL, 0), 0);
  ASSERT_EQ(count("그만해!", "gaslighting", "blocking", NULL, 0), 1);
  ASSERT_EQ(count("그건 두고 봐야 알지", "threat", "direct", NULL, 0), 0);
  ASSERT_EQ(count("두고 봐라", "threat", "direct", NULL, 0), 1);
  ASSERT_EQ(count("쓰레기 버리러 가자", "insult", NULL, NULL, 0), 0);
  ASSERT_EQ(count("이 쓰레기야", "insult", NULL, NULL, 0), 1);
  /* begins inside a word */
  ASSERT_EQ(count("형사가 왔어", "hierarchy", "family", NULL, 0), 0);
  ASSERT_EQ(count("형이 왔어", "hierarchy", "family", NULL, 0), 1);
  ASSERT_EQ(count("집에 나밖에 없어", "coercion", "isolation", NULL, 0), 0);
  ASSERT_EQ(count("너한테는 나밖에 없어", "coercion", "isolation", NULL, 0), 1);
  /* "그런" distancing never inside 그런데 */
  ASSERT_EQ(count("그런데 말이야", "deception", "distancing", NULL, 0), 0);
  ASSERT_EQ(count("그런데 말이야", "deception", "cognitive_complexity", NULL, 0), 1);
  return 0;
}

static int test_template_slots(void) {
  ASSERT_OK(open_db());
  char got[128];
  /* "만약 ~하면": the slot takes the predicate, "면" must end a word */
  ASSERT_EQ(count("만약 돈 안 주면 가만 안 둬", "threat", "conditional", got, sizeof got), 1);
  ASSERT_STR_EQ(got, "만약 돈 안 주면");
  ASSERT_EQ(count("만약 네가 면접에서 떨어지면", "threat", "conditional", got, sizeof got), 1);
  ASSERT_STR_EQ(got, "만약 네가 면접에서 떨어지면");
  ASSERT_EQ(count("다시 한번 늦으면", "threat", "conditional", NULL, 0), 1);
  /* a slot never crosses a sentence end nor spans more than 16 characters */
  ASSERT_EQ(count("만약에. 그러면", "threat", "conditional", NULL, 0), 0);
  ASSERT_EQ(count("만약 가나다라마바사아자차카타파하가나다라 오면", "threat", "conditional", NULL, 0), 0);
  /* "만약" alone is not the template */
  ASSERT_EQ(count("만약 그렇다고 해도", "threat", "conditional", NULL, 0), 0);
  return 0;
}

static int test_nfd_input(void) {
  ASSERT_OK(open_db());
  /* "그런 적 없어" with every syllable decomposed into conjoining jamo */
  const char *nfd =
      "\xe1\x84\x80\xe1\x85\xb3\xe1\x84\x85\xe1\x85\xa5\xe1\x86\xab "     /* 그런 */
      "\xe1\x84\x8c\xe1\x85\xa5\xe1\x86\xa8 "                             /* 적 */
      "\xe1\x84\x8b\xe1\x85\xa5\xe1\x86\xb9\xe1\x84\x8b\xe1\x85\xa5";     /* 없어 */
  char got[128];
  ASSERT_EQ(count(nfd, "gaslighting", "denial", got, sizeof got), 1);
  ASSERT_STR_EQ(got, nfd); /* original bytes, not the normalised form */
  vm__lang_text t;
  ASSERT_OK(vm__lang_text_init(&t, nfd, strlen(nfd)));
  ASSERT_EQ(t.n, 5);
  ASSERT_EQ(t.cps[0], 0xADF8); /* 그 */
  ASSERT_EQ(t.n_tokens, 3);
  vm__lang_text_deinit(&t);
  /* invalid bytes are dropped, not fatal */
  ASSERT_EQ(count("그런 적\xff 없어", "gaslighting", "denial", NULL, 0), 1);
  return 0;
}

static int test_contained_dropped(void) {
  ASSERT_OK(open_db());
  /* "무슨 말인지 알지" contains "알지": one veiled threat, not two */
  ASSERT_EQ(count("무슨 말인지 알지?", "threat", "veiled", NULL, 0), 1);
  /* repeated utterances count each time */
  ASSERT_EQ(count("닥쳐. 닥쳐!", "gaslighting", "blocking", NULL, 0), 2);
  return 0;
}

/* A sentence made from a pattern's own text: first alternative of each
 * group, "~하" → "빨리 하", other slots → "그거". */
static void sample_text(const char *pat, char *out, size_t len) {
  size_t n = 0;
  for (const char *p = pat; *p && n + 16 < len;) {
    if (*p == '(') {
      p++;
      while (*p && *p != '|' && *p != ')') out[n++] = *p++;
      while (*p && *p != ')') p++;
      if (*p) p++;
    } else if (*p == '~') {
      const char *fill = strncmp(p + 1, "하", strlen("하")) == 0 ? "빨리 " : "그거 ";
      memcpy(out + n, fill, strlen(fill));
      n += strlen(fill);
      p++;
    } else {
      out[n++] = *p++;
    }
  }
  out[n] = '\0';
}

/* Every pattern of the database matches a sentence made of its own text
 * (catches patterns that their boundary rule or a shadowing duplicate
 * makes unreachable). */
static int test_every_pattern_self_matches(void) {
  ASSERT_OK(open_db());
  int failed = 0;
  for (size_t ip = 0; ip < g_db->n_patterns; ip++) {
    const vm__lang_pattern *p = &g_db->patterns[ip];
    char text[512];
    sample_text(p->text, text, sizeof text);
    vm__lang_text t;
    vm__lang_hits h = {0};
    ASSERT_OK(vm__lang_text_init(&t, text, strlen(text)));
    ASSERT_OK(vm__lang_match_text(g_db, &t, 0, p->family, &h));
    int found = 0;
    for (size_t k = 0; k < h.n; k++) found |= h.items[k].pattern == ip;
    vm__lang_hits_deinit(&h);
    vm__lang_text_deinit(&t);
    if (!found) fprintf(stderr, "pattern %s \"%s\" does not match \"%s\"\n", p->id, p->text, text);
    failed += !found;
  }
  ASSERT_EQ(failed, 0);
  return 0;
}

/* Random bytes (with Hangul, jamo, punctuation and invalid sequences
 * mixed in) never crash the normaliser or matcher, and every match maps
 * back inside the input. */
static int test_random_input(void) {
  ASSERT_OK(open_db());
  static const char *const pieces[] = {"그런", " ", "적", "없어", ".", "?", "\xff", "\xe1\x84\x80",
                                       "\xe1\x85\xb3", "만약", "~", "면", "어", "요", "\xea",
                                       "닥쳐", "!", "a", "\xcc\x81", "돈"};
  uint64_t x = 12345;
  for (int iter = 0; iter < 3000; iter++) {
    char buf[256];
    size_t n = 0;
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    int k = (int)(x >> 59);
    for (int i = 0; i < k; i++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      const char *p = pieces[(x >> 33) % (sizeof pieces / sizeof *pieces)];
      if (n + strlen(p) >= sizeof buf) break;
      memcpy(buf + n, p, strlen(p));
      n += strlen(p);
    }
    vm__lang_text t;
    vm__lang_hits h = {0};
    ASSERT_OK(vm__lang_text_init(&t, buf, n));
    ASSERT_OK(vm__lang_match_text(g_db, &t, 0, -1, &h));
    for (size_t i = 0; i < h.n; i++) {
      ASSERT(h.items[i].c0 < h.items[i].c1 && h.items[i].c1 <= t.n);
      ASSERT(t.b0[h.items[i].c0] <= t.b1[h.items[i].c1 - 1] && t.b1[h.items[i].c1 - 1] <= n);
    }
    int f, inf;
    vm__lang_level_classify(g_db, &t, &f, &inf);
    vm__lang_hits_deinit(&h);
    vm__lang_text_deinit(&t);
  }
  return 0;
}

static int cleanup(void) {
  vm_lang_db_close(g_db);
  g_db = NULL;
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_db_opens), TEST_ENTRY(test_db_default_dir),
          TEST_ENTRY(test_every_type_matches), TEST_ENTRY(test_spacing_and_endings),
          TEST_ENTRY(test_near_misses), TEST_ENTRY(test_template_slots),
          TEST_ENTRY(test_nfd_input), TEST_ENTRY(test_contained_dropped),
          TEST_ENTRY(test_every_pattern_self_matches), TEST_ENTRY(test_random_input),
          TEST_ENTRY(cleanup))
