/* diar_text.h — varied sentences for the long-conversation tests.
 *
 * tk_text_ko(i) / tk_text_en(i) build sentence i from three phrase lists
 * (12 x 12 x 12) with index strides that are coprime with 12, so the
 * first 144 sentences are all different and every phrase recurs only in
 * new combinations: no utterance is a repeat of another, unlike a
 * conversation looped from four fixed sentences (whose exact repetitions
 * form unnaturally tight per-sentence clusters). Header-only, static. */
#ifndef VM_TESTS_DIAR_TEXT_H
#define VM_TESTS_DIAR_TEXT_H

#include <stdio.h>

#include "diar_testkit.h"

static const char *const TK_KO_A[12] = {
  "여보세요 저는 서울 중앙 지검의 수사관인데요", "고객님 지금 통화 괜찮으신가요",
  "어제 오후에 은행에서 문자를 받으셨죠", "제가 방금 말씀드린 내용을 잘 들으세요",
  "아니 갑자기 왜 저한테 전화를 하신 거예요", "지난주 금요일에 친구를 만나러 부산에 갔었는데",
  "혹시 최근에 휴대폰을 잃어버리신 적이 있나요", "솔직히 말씀드리면 저도 잘 모르겠습니다",
  "우리 회사 담당자가 내일 아침에 다시 연락할 겁니다", "잠깐만요 지금 운전 중이라서 메모를 못 해요",
  "그 계좌는 제 어머니가 오래전에 만들어 주신 건데요", "이번 사건은 금융 감독원과 함께 조사하고 있습니다",
};
static const char *const TK_KO_B[12] = {
  "명의가 도용된 통장으로", "국민은행 지점 근처에서", "다음 달 월급날 전까지",
  "가족들 모르게 조용히", "인터넷 뱅킹 비밀번호를 바꾸고", "경찰서에 직접 가지 않고",
  "카드 뒷면의 번호를 불러 주시면", "현금 인출기 앞에서", "안전 계좌로 옮겨 두시면",
  "저녁 여덟 시쯤에", "등기 우편이 도착하면", "아무한테도 말하지 말고",
};
static const char *const TK_KO_C[12] = {
  "오백만 원이 빠져나갔습니다", "확인해 드리겠습니다", "처리하시면 됩니다",
  "절대 그런 적이 없어요", "다시 전화 드릴게요", "무슨 말씀인지 모르겠네요",
  "보호해 드릴 수 있습니다", "벌써 신고를 했습니다", "기다려 주시기 바랍니다",
  "정말 황당하네요", "서류를 준비해 주세요", "조금 생각해 보겠습니다",
};
static const char *const TK_EN_A[12] = {
  "Good morning, this is the fraud office", "Sorry, who did you say you were",
  "Last Tuesday somebody tried to log in", "Please listen carefully to what I say",
  "My brother usually handles the money", "We have a record showing that",
  "Honestly I never gave my number to anyone", "According to our security system",
  "I was driving home from work when", "Before we continue I need to confirm that",
  "The manager told me on the phone that", "If you do not act within an hour",
};
static const char *const TK_EN_B[12] = {
  "a large transfer to a foreign bank", "your card was used in another city",
  "the parcel is still waiting at customs", "three payments went through overnight",
  "the loan application carries your name", "your password was changed twice",
  "the police opened a case this morning", "the safe account protects your savings",
  "a stranger called my mother yesterday", "my pension arrives next Thursday",
  "the letter came with the wrong address", "nobody at the branch knew about it",
};
static const char *const TK_EN_C[12] = {
  "so we must move quickly", "and I find that very strange", "which is why I am calling",
  "but I will check with my bank", "so please stay on the line", "and that makes no sense to me",
  "until the audit is complete", "so give me the code now", "and I want to speak to someone else",
  "before the account is frozen", "and I am not comfortable with this", "so I will call you back later",
};

/* Sentence i (0 <= i < 144 all distinct) into buf. Returns buf. */
static inline const char *tk_text_ko(int i, char *buf, size_t n) {
  snprintf(buf, n, "%s %s %s", TK_KO_A[i % 12], TK_KO_B[(i * 5 + i / 12) % 12], TK_KO_C[(i * 7 + 3) % 12]);
  return buf;
}

static inline const char *tk_text_en(int i, char *buf, size_t n) {
  snprintf(buf, n, "%s %s %s", TK_EN_A[i % 12], TK_EN_B[(i * 5 + i / 12) % 12], TK_EN_C[(i * 7 + 3) % 12]);
  return buf;
}

#define TK_MAX_UTT 400

/* A varied conversation: the utterances it owns and the layout. */
typedef struct tk_varied {
  tk_sig utt[TK_MAX_UTT];
  size_t n_utt;
  tk_convo c;
} tk_varied;

/* Builds about `seconds` of conversation: turn i is spoken by voice
 * who[i % n_who] (indices into v; party = that index); a turn is one
 * sentence (sentence first + i), every fifth turn two, every seventh a
 * short reply; gaps cycle through 0.2..1.5 s (0.2 s is bridged by the
 * VAD, so the change must be found inside a region). 0 on success;
 * free with tk_varied_free either way. */
static inline int tk_varied_build(const tk_voice *const *v, const int *who, size_t n_who,
                                  int lang_en, int first, double seconds, tk_varied *out) {
  static const double gaps[] = {0.6, 0.2, 0.9, 0.4, 1.5, 0.7, 0.3};
  static tk_turn_plan p[TK_MAX_TURNS];
  const char *(*say)(int, char *, size_t) = lang_en ? tk_text_en : tk_text_ko;
  memset(out, 0, sizeof *out);
  double total = 0;
  size_t i = 0;
  while (total < seconds && i < TK_MAX_UTT && i < TK_MAX_TURNS) {
    char a[400], b[400], t[820];
    int k = first + (int)i;
    say(k, a, sizeof a);
    if (i % 5 == 4) {
      say(k + 71, b, sizeof b);
      snprintf(t, sizeof t, "%s. %s", a, b);
    } else if (i % 7 == 6) {
      snprintf(t, sizeof t, "%s", lang_en ? TK_EN_C[k % 12] : TK_KO_C[k % 12]);
    } else {
      snprintf(t, sizeof t, "%s", a);
    }
    int party = who[i % n_who];
    out->utt[i] = tk_say(v[party], t);
    out->n_utt = i + 1;
    if (!out->utt[i].x) return -1;
    p[i] = (tk_turn_plan){&out->utt[i], party, gaps[i % 7]};
    total += (double)out->utt[i].n / TK_RATE + gaps[i % 7];
    i++;
  }
  return tk_convo_build(p, i, 1.0, &out->c);
}

static inline void tk_varied_free(tk_varied *t) {
  for (size_t i = 0; i < t->n_utt; i++) free(t->utt[i].x);
  tk_convo_free(&t->c);
}

#endif /* VM_TESTS_DIAR_TEXT_H */
