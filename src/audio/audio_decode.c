/* audio_decode.c — any recording → mono float PCM at 16 kHz, in memory.
 *
 * DESIGN: one call decodes one input from start to end on the calling
 * thread (no FFmpeg threads: parallelism is across files, in the pipeline).
 *   bytes (audio_io.c, read-only) → libavformat demuxer → best audio stream
 *   (av_find_best_stream) → libavcodec decoder → libswresample: downmix to
 *   mono (average of the channels, see resampler_configure) and resample to
 *   opts->sample_rate_hz as float, optionally a second mono copy at the
 *   native rate → geometric buffers owned by the returned vm_audio.
 * The input is never written, no temporary file is made, no child process
 * is run. Cancellation is polled between packets (and inside
 * avformat_find_stream_info through the interrupt callback).
 *
 * Truncation rule (documented in audio.h): a stream that ends — by EOF or
 * by a read error — before the duration its container declares is refused
 * with VM_EDECODE "truncated <CODEC> stream at <T> s" when
 *   decoded < 98 % of declared  AND  declared - decoded > 0.5 s,
 * unless the declared duration is itself only a bit-rate estimate
 * (AVFMT_DURATION_FROM_BITRATE, e.g. MP3 without a Xing header), which
 * cannot be trusted. The 2 % / 0.5 s slack absorbs encoder priming and
 * padding, edit lists and last-frame rounding.
 *
 * Timeline: output times must be recording times (transcript timestamps
 * and evidence depend on it). Frames the decoder drops — FFmpeg's amrnb
 * rejects AMR DTX comfort-noise frames, a corrupt packet is skipped — are
 * replaced by silence of the length their timestamps say (fill_gap,
 * facts.filled_s), and the end is matched to the last packet's end
 * (match_packet_end: trailing DTX filled, MP4 encoder padding cut).
 *
 * Memory: the output grows geometrically (x2), so n samples cost at most
 * 2n floats while decoding; the result is trimmed to fit at the end.
 * opts->max_duration_s bounds it (VM_EINVAL), checked before decoding when
 * the container declares a duration and again as frames arrive.
 *
 * Not here: error wording (audio_errors.c), byte I/O (audio_io.c),
 * loudness (audio_normalize.c).
 */
#include <ctype.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include "audio_impl.h"
#include "vm_alloc.h"

#define TRUNC_RATIO 0.98      /* decoded/declared below this ... */
#define TRUNC_MIN_GAP_S 0.5   /* ... and at least this short: truncated */
#define MAX_BAD_PACKETS_IN_A_ROW 256 /* then the stream is garbage */
#define GAP_MIN_S 0.010       /* timestamp gaps filled with silence ... */
#define GAP_MAX_S 60.0        /* ... when within these bounds (fill_gap) */
#define MIN_RATE_HZ 1000
#define MAX_RATE_HZ 768000
#define MAX_CHANNELS 64       /* libswresample SWR_CH_MAX */

/* A growing mono float buffer. Invariant: n <= cap. */
typedef struct pcm_buf {
  float *p;     /* (cap,) */
  size_t n;     /* samples written */
  size_t cap;   /* samples allocated */
} pcm_buf;

/* One libswresample context to mono float at out_rate, reconfigured when
 * the input format changes mid-stream (rate, channels, sample format). */
typedef struct resampler {
  SwrContext *swr;
  int out_rate;              /* Hz, fixed for the whole stream */
  int pick;                  /* -1: downmix; else take this input channel
                                alone (the last one if a frame has fewer) */
  int in_rate;               /* Hz of the current configuration */
  int in_fmt;                /* enum AVSampleFormat */
  AVChannelLayout in_layout; /* as the frames carry it */
  pcm_buf out;
} resampler;

/* Everything one decode owns; released by dec_release in reverse order. */
typedef struct dec {
  const vm_audio_opts *opts;
  vm__audio_src *src;
  const char *name;
  AVIOContext *pb;
  AVFormatContext *fmt;
  AVCodecContext *cc;
  AVPacket *pkt;
  AVFrame *frame;
  AVFrame *like;         /* format of the last frame (no data), for fill */
  int i_stream;
  resampler rs;          /* to opts->sample_rate_hz */
  resampler rs_native;   /* to the first frame's rate, if keep_native */
  resampler rs_ch[2];    /* channels 0 and 1 alone, if keep_channels */
  int with_ch;           /* rs_ch in use: keep_channels and >= 2 channels */
  double decoded_s;      /* seconds of native samples decoded */
  int n_bad_in_a_row;    /* consecutive packets that failed to decode */
  int read_err;          /* AVERROR that ended av_read_frame */
  int looks_text;        /* the first bytes look like text */
  int have_t0;           /* t0_s is set */
  double t0_s;           /* timestamp of the first frame, seconds */
  double pkt_end_s;      /* latest end (pts + duration) of our packets, s */
  int pkt_times_bad;     /* some packet had no pts or duration */
  double last_frame_s;   /* duration of the last decoded frame, s */
  double trim_end_s;     /* > 0: cut the output at this time, s */
  double max_frame_s;    /* longest decoded frame, s */
  const AVCodec *codec;  /* decoder of the chosen stream */
  char codec_up[32];     /* "AAC", for messages */
  vm_audio_facts facts;
} dec;

vm_audio_opts vm_audio_opts_default(void) {
  vm_audio_opts o = {.sample_rate_hz = 16000, .keep_native = 0,
                     .max_duration_s = 0, .cancel = NULL};
  return o;
}

void vm_audio_deinit(vm_audio *a) {
  if (!a) return;
  vm_free(a->samples);
  vm_free(a->native);
  vm_free(a->channel[0]);
  vm_free(a->channel[1]);
  memset(a, 0, sizeof *a);
}

static int canceled(const dec *d) {
  return d->opts->cancel && atomic_load(d->opts->cancel) != 0;
}

static int interrupt_cb(void *opaque) { return canceled(opaque); }

/* ---- output buffers ------------------------------------------------------ */

/* Makes room for `extra` more samples, doubling the capacity. */
static int pcm_reserve(pcm_buf *b, size_t extra, vm_err *err) {
  if (extra <= b->cap - b->n) return VM_OK;
  size_t need = b->n + extra, cap = b->cap ? b->cap : 16384;
  if (need > SIZE_MAX / 2 / sizeof(float))
    return vm_err_set(err, VM_ENOMEM, "audio too long to hold in memory");
  while (cap < need) cap *= 2;
  float *p = vm_realloc(b->p, cap * sizeof(float));
  if (!p)
    return vm_err_set(err, VM_ENOMEM, "out of memory (%zu samples)", cap);
  b->p = p;
  b->cap = cap;
  return VM_OK;
}

/* Hands b's memory to the caller, trimmed to fit. */
static float *pcm_take(pcm_buf *b, size_t *out_n) {
  float *p = b->p;
  if (p && b->n && b->n + b->n / 4 < b->cap) {
    float *q = vm_realloc(p, b->n * sizeof(float));
    if (q) p = q; /* on failure the larger block is still valid */
  }
  *out_n = b->n;
  memset(b, 0, sizeof *b);
  return p;
}

/* ---- resampling ------------------------------------------------------------ */

static void resampler_release(resampler *r) {
  swr_free(&r->swr);
  av_channel_layout_uninit(&r->in_layout);
  vm_free(r->out.p);
  memset(r, 0, sizeof *r);
}

/* Converts n_in frames of input (NULL: drain the delay line) into r->out. */
static int resampler_run(resampler *r, const uint8_t **in, int n_in,
                         vm_err *err) {
  for (;;) {
    int want = swr_get_out_samples(r->swr, n_in);
    if (want < 0) return vm__audio_err_av(want, "resampling", err);
    if (want == 0 && in) return VM_OK;
    int rc = pcm_reserve(&r->out, (size_t)want + 16, err);
    if (rc) return rc;
    uint8_t *o = (uint8_t *)(r->out.p + r->out.n);
    int got = swr_convert(r->swr, &o, want + 16, in, n_in);
    if (got < 0) return vm__audio_err_av(got, "resampling", err);
    r->out.n += (size_t)got;
    if (in || got == 0) return VM_OK;
  }
}

/* (Re)creates r->swr for the format of f, after draining the old one.
 * Downmix: rematrix_maxval = 1 makes libswresample normalise its matrix so
 * the coefficients of each output channel sum to at most 1 — stereo gives
 * (L + R) / 2, which cannot clip; without it float output keeps the
 * +3 dB centre gain (sqrt(1/2) each, sum 1.41). */
static int resampler_configure(resampler *r, const AVFrame *f, vm_err *err) {
  AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO, in = {0};
  int rc = VM_OK, ret;

  if (r->swr && (rc = resampler_run(r, NULL, 0, err)) != VM_OK) return rc;
  swr_free(&r->swr);
  av_channel_layout_uninit(&r->in_layout);
  if ((ret = av_channel_layout_copy(&r->in_layout, &f->ch_layout)) < 0)
    return vm__audio_err_av(ret, "reading the channel layout", err);
  r->in_rate = f->sample_rate;
  r->in_fmt = f->format;
  /* Try the layout as given; if libswresample cannot mix it (custom or
   * ambisonic order), fall back to the default layout of that count. */
  for (int attempt = 0; attempt < 2; attempt++) {
    av_channel_layout_uninit(&in);
    if (attempt == 0 && f->ch_layout.order == AV_CHANNEL_ORDER_NATIVE)
      ret = av_channel_layout_copy(&in, &f->ch_layout);
    else if (attempt == 0)
      continue;
    else
      av_channel_layout_default(&in, f->ch_layout.nb_channels), ret = 0;
    if (ret < 0) break;
    swr_free(&r->swr);
    ret = swr_alloc_set_opts2(&r->swr, &mono, AV_SAMPLE_FMT_FLT, r->out_rate,
                              &in, f->format, f->sample_rate, 0, NULL);
    if (ret >= 0) ret = av_opt_set_double(r->swr, "rematrix_maxval", 1.0, 0);
    if (ret >= 0 && r->pick >= 0) {
      /* a 1 x n matrix that keeps one channel: no mixing at all */
      double m[MAX_CHANNELS] = {0};
      int n_in = in.nb_channels;
      m[r->pick < n_in ? r->pick : n_in - 1] = 1.0;
      ret = swr_set_matrix(r->swr, m, n_in);
    }
    if (ret >= 0) ret = swr_init(r->swr);
    if (ret >= 0) break;
  }
  av_channel_layout_uninit(&in);
  if (ret < 0) {
    swr_free(&r->swr);
    rc = vm__audio_err_av(ret, "setting up the resampler", err);
  }
  return rc;
}

static int resampler_push(resampler *r, const AVFrame *f, vm_err *err) {
  int rc;
  if (!r->swr || r->in_rate != f->sample_rate || r->in_fmt != f->format ||
      av_channel_layout_compare(&r->in_layout, &f->ch_layout) != 0) {
    if ((rc = resampler_configure(r, f, err)) != VM_OK) return rc;
  }
  /* swr_convert takes const uint8_t **; void * avoids a qualifier cast. */
  return resampler_run(r, (void *)f->extended_data, f->nb_samples,
                       err);
}

/* ---- demux and decode ------------------------------------------------------ */

static int open_input(dec *d, vm_err *err) {
  uint8_t hdr[4096];
  size_t n_hdr = vm__audio_src_peek(d->src, hdr, sizeof hdr);
  int ret;

  if (!(d->pb = vm__audio_avio_create(d->src)) ||
      !(d->fmt = avformat_alloc_context()))
    return vm_err_set(err, VM_ENOMEM, "out of memory opening the file");
  d->fmt->pb = d->pb;
  d->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  d->fmt->io_open = vm__audio_io_open_refuse;
  d->fmt->interrupt_callback.callback = interrupt_cb;
  d->fmt->interrupt_callback.opaque = d;
  /* On failure avformat_open_input frees the context and NULLs it. The
   * name only serves as an extension hint for probing. */
  ret = avformat_open_input(&d->fmt, d->name, NULL, NULL);
  if (ret >= 0) ret = avformat_find_stream_info(d->fmt, NULL);
  if (ret < 0) {
    if (canceled(d)) return vm_err_set(err, VM_ECANCELED, "canceled");
    return vm__audio_err_open(ret, hdr, n_hdr, d->src, d->name, err);
  }
  /* A text file some demuxer accepted (subtitles, playlists) is still
   * text; pick_stream words it so if there is no audio in it. */
  d->looks_text = vm__audio_looks_like_text(hdr, n_hdr);
  return VM_OK;
}

/* "1 video stream", "2 video streams and 1 subtitle stream" into buf. */
static void describe_streams(const AVFormatContext *fmt, char *buf,
                             size_t cap) {
  int n[AVMEDIA_TYPE_NB] = {0};
  size_t len = 0;
  for (unsigned i = 0; i < fmt->nb_streams; i++) {
    int t = fmt->streams[i]->codecpar->codec_type;
    if (t >= 0 && t < AVMEDIA_TYPE_NB) n[t]++;
  }
  buf[0] = '\0';
  for (int t = 0; t < AVMEDIA_TYPE_NB; t++) {
    if (!n[t] || len >= cap) continue;
    const char *kind = av_get_media_type_string((enum AVMediaType)t);
    len += (size_t)snprintf(buf + len, cap - len, "%s%d %s stream%s",
                            len ? " and " : "", n[t], kind ? kind : "data",
                            n[t] == 1 ? "" : "s");
  }
  if (!buf[0]) snprintf(buf, cap, "no streams at all");
}

static int pick_stream(dec *d, vm_err *err) {
  for (unsigned i = 0; i < d->fmt->nb_streams; i++)
    if (d->fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
      d->facts.n_audio_streams++;
  /* Without decoder_ret, so that a stream we cannot decode is still found
   * and named in the message. */
  d->i_stream = av_find_best_stream(d->fmt, AVMEDIA_TYPE_AUDIO, -1, -1,
                                    NULL, 0);
  if (d->i_stream < 0) {
    char what[160];
    if (d->looks_text)
      return vm_err_set(err, VM_EFORMAT, "not an audio file (looks like text)");
    describe_streams(d->fmt, what, sizeof what);
    return vm_err_set(err, VM_ENOAUDIO, "no audio stream (the file has %s)",
                      what);
  }
  const AVCodecParameters *par = d->fmt->streams[d->i_stream]->codecpar;
  if (!(d->codec = avcodec_find_decoder(par->codec_id)))
    return vm_err_set(err, VM_EFORMAT, "unsupported audio codec (%s)",
                      avcodec_get_name(par->codec_id));
  for (unsigned i = 0; i < d->fmt->nb_streams; i++)
    if ((int)i != d->i_stream) d->fmt->streams[i]->discard = AVDISCARD_ALL;
  return VM_OK;
}

/* Declared duration of the chosen stream (or the file), seconds, or -1. */
static double declared_duration(const dec *d) {
  const AVStream *st = d->fmt->streams[d->i_stream];
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0 &&
      st->time_base.den > 0)
    return (double)st->duration * av_q2d(st->time_base);
  if (d->fmt->duration != AV_NOPTS_VALUE && d->fmt->duration > 0)
    return (double)d->fmt->duration / AV_TIME_BASE;
  return -1;
}

static int open_decoder(dec *d, vm_err *err) {
  const AVStream *st = d->fmt->streams[d->i_stream];
  const char *cname = avcodec_get_name(st->codecpar->codec_id);
  size_t i;
  int ret;

  for (i = 0; cname[i] && i + 1 < sizeof d->codec_up; i++)
    d->codec_up[i] = (char)toupper((unsigned char)cname[i]);
  d->codec_up[i] = '\0';
  if (!(d->cc = avcodec_alloc_context3(d->codec)) ||
      !(d->pkt = av_packet_alloc()) || !(d->frame = av_frame_alloc()))
    return vm_err_set(err, VM_ENOMEM, "out of memory opening the decoder");
  if ((ret = avcodec_parameters_to_context(d->cc, st->codecpar)) < 0)
    return vm__audio_err_av(ret, "reading codec parameters", err);
  d->cc->pkt_timebase = st->time_base;
  d->cc->thread_count = 1;
  if ((ret = avcodec_open2(d->cc, d->codec, NULL)) < 0)
    return vm__audio_err_av(ret, "opening the decoder", err);
  return VM_OK;
}

/* Counts f's samples into the timeline and resamples them. */
static int push_frame(dec *d, const AVFrame *f, vm_err *err) {
  int rc;
  d->decoded_s += (double)f->nb_samples / f->sample_rate;
  if (d->opts->max_duration_s > 0 && d->decoded_s > d->opts->max_duration_s)
    return vm_err_set(err, VM_EINVAL,
                      "recording longer than the %.0f s limit",
                      d->opts->max_duration_s);
  if ((rc = resampler_push(&d->rs, f, err)) != VM_OK) return rc;
  if (d->opts->keep_native)
    rc = resampler_push(&d->rs_native, f, err);
  for (int c = 0; c < 2 && d->with_ch && rc == VM_OK; c++)
    rc = resampler_push(&d->rs_ch[c], f, err);
  return rc;
}

/* Pushes n_samples of silence in the format of `like` (a frame whose
 * format, sample_rate and ch_layout are used, not its data). */
static int push_silence(dec *d, const AVFrame *like, int64_t n_samples,
                        vm_err *err) {
  AVFrame *z = av_frame_alloc();
  int rc = VM_OK, ret;
  if (!z) return vm_err_set(err, VM_ENOMEM, "out of memory");
  z->format = like->format;
  z->sample_rate = like->sample_rate;
  z->nb_samples = 4096;
  if ((ret = av_channel_layout_copy(&z->ch_layout, &like->ch_layout)) < 0 ||
      (ret = av_frame_get_buffer(z, 0)) < 0) {
    rc = vm__audio_err_av(ret, "filling a gap", err);
    goto out;
  }
  av_samples_set_silence(z->extended_data, 0, 4096, z->ch_layout.nb_channels,
                         (enum AVSampleFormat)z->format);
  while (n_samples > 0 && rc == VM_OK) {
    z->nb_samples = (int)(n_samples < 4096 ? n_samples : 4096);
    n_samples -= z->nb_samples;
    rc = push_frame(d, z, err);
  }
out:
  av_frame_free(&z);
  return rc;
}

/* Keeps the timeline: when f starts later than the samples so far end
 * (frames the decoder dropped — AMR DTX/SID frames that FFmpeg's amrnb
 * does not implement, or packets that failed to decode), the gap is filled
 * with silence so that a time in the output is a time in the recording.
 * Gaps under GAP_MIN_S (timestamp rounding) or over GAP_MAX_S (broken
 * timestamps, not lost audio) are left alone. */
static int fill_gap(dec *d, const AVFrame *f, vm_err *err) {
  int64_t ts = f->best_effort_timestamp;
  AVRational tb = d->fmt->streams[d->i_stream]->time_base;
  if (ts == AV_NOPTS_VALUE || tb.den <= 0 || tb.num <= 0) return VM_OK;
  double t = (double)ts * av_q2d(tb);
  if (!d->have_t0) {
    d->have_t0 = 1;
    d->t0_s = t;
    return VM_OK;
  }
  double gap = t - d->t0_s - d->decoded_s;
  if (!(gap >= GAP_MIN_S && gap <= GAP_MAX_S)) return VM_OK;
  d->facts.filled_s += gap;
  return push_silence(d, f, llround(gap * f->sample_rate), err);
}

static int take_frame(dec *d, const AVFrame *f, vm_err *err) {
  int rc;
  int ch = f->ch_layout.nb_channels;
  if (f->nb_samples <= 0) return VM_OK;
  if (f->sample_rate < MIN_RATE_HZ || f->sample_rate > MAX_RATE_HZ ||
      ch < 1 || ch > MAX_CHANNELS)
    return vm_err_set(err, VM_EDECODE,
                      "%s stream has an invalid format (%d Hz, %d channels)",
                      d->codec_up, f->sample_rate, ch);
  if (!d->facts.native_rate_hz) {
    d->facts.native_rate_hz = f->sample_rate;
    d->facts.native_channels = ch;
    d->rs_native.out_rate = f->sample_rate;
    d->with_ch = d->opts->keep_channels && ch >= 2;
  }
  if ((rc = fill_gap(d, f, err)) != VM_OK) return rc;
  if (!d->like && !(d->like = av_frame_alloc()))
    return vm_err_set(err, VM_ENOMEM, "out of memory");
  if ((rc = av_frame_copy_props(d->like, f)) < 0 ||
      (rc = av_channel_layout_copy(&d->like->ch_layout, &f->ch_layout)) < 0)
    return vm__audio_err_av(rc, "decoding", err);
  d->like->format = f->format;
  d->last_frame_s = (double)f->nb_samples / f->sample_rate;
  if (d->last_frame_s > d->max_frame_s) d->max_frame_s = d->last_frame_s;
  d->like->sample_rate = f->sample_rate;
  return push_frame(d, f, err);
}

/* Sends one packet (NULL: flush) and takes every frame it yields. A packet
 * the decoder rejects as invalid is counted and skipped. */
static int decode_packet(dec *d, const AVPacket *pkt, vm_err *err) {
  int ret = avcodec_send_packet(d->cc, pkt), rc;
  if (ret == AVERROR(ENOMEM)) return vm__audio_err_av(ret, "decoding", err);
  if (ret < 0 && ret != AVERROR_EOF) {
    d->facts.n_decode_errors++;
    if (++d->n_bad_in_a_row > MAX_BAD_PACKETS_IN_A_ROW)
      return vm__audio_err_av(ret, "decoding (too many bad packets)", err);
    return VM_OK;
  }
  for (;;) {
    ret = avcodec_receive_frame(d->cc, d->frame);
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return VM_OK;
    if (ret < 0) {
      if (ret == AVERROR(ENOMEM)) return vm__audio_err_av(ret, "decoding", err);
      d->facts.n_decode_errors++;
      return VM_OK;
    }
    d->n_bad_in_a_row = 0;
    rc = take_frame(d, d->frame, err);
    av_frame_unref(d->frame);
    if (rc) return rc;
  }
}

static void note_packet_end(dec *d, const AVPacket *pkt) {
  AVRational tb = d->fmt->streams[d->i_stream]->time_base;
  if (pkt->pts == AV_NOPTS_VALUE || pkt->duration <= 0 || tb.den <= 0) {
    d->pkt_times_bad = 1;
    return;
  }
  double end = (double)(pkt->pts + pkt->duration) * av_q2d(tb);
  if (end > d->pkt_end_s) d->pkt_end_s = end;
}

/* Makes the decoded length agree with the end of the last packet (its
 * pts + duration), when every packet had both:
 *  - shorter by at least one whole frame: frames dropped at the very end
 *    (trailing AMR DTX) leave a gap, filled with silence as fill_gap does
 *    inside the stream (less than a frame is end padding the decoder
 *    discarded on purpose, e.g. MP3 gapless info: left alone);
 *  - longer by less than the last frame: encoder padding that the
 *    container trims (an MP4 edit list shortens the last sample; FFmpeg
 *    5.1 decodes the whole AAC frame anyway), cut here so that the output
 *    is as long as the container says. Called after the decoder flush and
 *    before the resamplers drain. */
static int match_packet_end(dec *d, vm_err *err) {
  if (!d->like || !d->have_t0 || d->pkt_times_bad || d->pkt_end_s <= 0)
    return VM_OK;
  double end = d->pkt_end_s - d->t0_s, gap = end - d->decoded_s;
  if (gap >= GAP_MIN_S && gap >= 0.99 * d->max_frame_s && gap <= GAP_MAX_S) {
    d->facts.filled_s += gap;
    return push_silence(d, d->like, llround(gap * d->like->sample_rate), err);
  }
  if (gap < 0 && -gap < d->last_frame_s) {
    d->trim_end_s = end;
    d->decoded_s = end;
  }
  return VM_OK;
}

/* Cuts r's output at t seconds (see match_packet_end). */
static void trim_to(resampler *r, double t) {
  size_t n = (size_t)llround(t * r->out_rate);
  if (n < r->out.n) r->out.n = n;
}

static int decode_all(dec *d, vm_err *err) {
  int rc = VM_OK;
  for (;;) {
    if (canceled(d)) return vm_err_set(err, VM_ECANCELED, "canceled");
    int ret = av_read_frame(d->fmt, d->pkt);
    if (ret < 0) {
      d->read_err = ret;
      break;
    }
    if (d->pkt->stream_index == d->i_stream) {
      note_packet_end(d, d->pkt);
      rc = decode_packet(d, d->pkt, err);
    }
    av_packet_unref(d->pkt);
    if (rc) return rc;
  }
  if ((rc = decode_packet(d, NULL, err)) != VM_OK) return rc;
  if ((rc = match_packet_end(d, err)) != VM_OK) return rc;
  if (d->rs.swr && (rc = resampler_run(&d->rs, NULL, 0, err)) != VM_OK)
    return rc;
  if (d->rs_native.swr)
    rc = resampler_run(&d->rs_native, NULL, 0, err);
  for (int c = 0; c < 2 && rc == VM_OK; c++)
    if (d->rs_ch[c].swr) rc = resampler_run(&d->rs_ch[c], NULL, 0, err);
  if (d->trim_end_s > 0) {
    trim_to(&d->rs, d->trim_end_s);
    trim_to(&d->rs_native, d->trim_end_s);
    trim_to(&d->rs_ch[0], d->trim_end_s);
    trim_to(&d->rs_ch[1], d->trim_end_s);
  }
  return rc;
}

/* Applies the truncation rule (see the file header) and the other ways a
 * stream can end badly. */
static int check_end(dec *d, vm_err *err) {
  double declared = declared_duration(d);
  int trusted = d->fmt->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE;

  if (d->src->read_errno)
    return vm_err_set(err, vm_status_from_errno(d->src->read_errno),
                      "read error at %.2f s: %s", d->decoded_s,
                      strerror(d->src->read_errno));
  if (d->read_err == AVERROR_EXIT)
    return vm_err_set(err, VM_ECANCELED, "canceled");
  if (trusted && declared > 0 && d->decoded_s < TRUNC_RATIO * declared &&
      declared - d->decoded_s > TRUNC_MIN_GAP_S)
    return vm_err_set(err, VM_EDECODE,
                      "truncated %s stream at %.2f s (the container "
                      "declares %.2f s)",
                      d->codec_up, d->decoded_s, declared);
  if (d->rs.out.n == 0 && d->facts.n_decode_errors > 0)
    return vm_err_set(err, VM_EDECODE,
                      "could not decode the %s stream (%d bad packets%s%s)",
                      d->codec_up, d->facts.n_decode_errors,
                      vm__audio_log_last()[0] ? ": " : "",
                      vm__audio_log_last());
  if (d->rs.out.n == 0 && d->read_err != AVERROR_EOF)
    return vm__audio_err_av(d->read_err, "reading packets", err);
  if (d->rs.out.n == 0)
    return vm_err_set(err, VM_EDECODE, "the %s stream holds no audio samples",
                      d->codec_up);
  return VM_OK;
}

static void fill_facts(dec *d) {
  vm_audio_facts *f = &d->facts;
  const AVStream *st = d->fmt->streams[d->i_stream];
  snprintf(f->container, sizeof f->container, "%s", d->fmt->iformat->name);
  snprintf(f->codec, sizeof f->codec, "%s",
           avcodec_get_name(st->codecpar->codec_id));
  f->bit_rate = d->fmt->bit_rate > 0 ? d->fmt->bit_rate : st->codecpar->bit_rate;
  f->duration_s = d->decoded_s;
  f->container_duration_s =
      d->fmt->duration != AV_NOPTS_VALUE && d->fmt->duration > 0
          ? (double)d->fmt->duration / AV_TIME_BASE
          : declared_duration(d);
}

static void dec_release(dec *d) {
  resampler_release(&d->rs_ch[1]);
  resampler_release(&d->rs_ch[0]);
  resampler_release(&d->rs_native);
  resampler_release(&d->rs);
  av_frame_free(&d->like);
  av_frame_free(&d->frame);
  av_packet_free(&d->pkt);
  avcodec_free_context(&d->cc);
  avformat_close_input(&d->fmt); /* CUSTOM_IO: leaves d->pb alone */
  vm__audio_avio_free(&d->pb);
}

/* The decode proper, shared by the file and memory entry points. */
static int decode_src(vm__audio_src *src, const char *name,
                      const vm_audio_opts *opts, vm_audio *out, vm_err *err) {
  vm_audio_opts defaults = vm_audio_opts_default();
  dec d;
  int rc;

  memset(&d, 0, sizeof d);
  d.opts = opts ? opts : &defaults;
  d.src = src;
  d.name = name ? name : "";
  d.rs.out_rate = d.opts->sample_rate_hz;
  d.rs.pick = d.rs_native.pick = -1;
  for (int c = 0; c < 2; c++) {
    d.rs_ch[c].out_rate = d.opts->sample_rate_hz;
    d.rs_ch[c].pick = c;
  }
  d.read_err = AVERROR_EOF;
  if ((rc = open_input(&d, err)) != VM_OK) goto out;
  if ((rc = pick_stream(&d, err)) != VM_OK) goto out;
  double declared = declared_duration(&d);
  if (d.opts->max_duration_s > 0 && declared > d.opts->max_duration_s) {
    rc = vm_err_set(err, VM_EINVAL,
                    "recording longer than the %.0f s limit (%.1f s)",
                    d.opts->max_duration_s, declared);
    goto out;
  }
  if ((rc = open_decoder(&d, err)) != VM_OK) goto out;
  if ((rc = decode_all(&d, err)) != VM_OK) goto out;
  if ((rc = check_end(&d, err)) != VM_OK) goto out;
  fill_facts(&d);
  out->facts = d.facts;
  out->sample_rate_hz = d.rs.out_rate;
  out->samples = pcm_take(&d.rs.out, &out->n_samples);
  if (d.opts->keep_native)
    out->native = pcm_take(&d.rs_native.out, &out->n_native);
  if (d.with_ch) {
    /* the three resamplers saw the same frames; equalise any rounding */
    size_t n = out->n_samples;
    for (int c = 0; c < 2; c++) {
      size_t nc;
      out->channel[c] = pcm_take(&d.rs_ch[c].out, &nc);
      if (!out->channel[c]) {
        rc = vm_err_set(err, VM_ENOMEM, "out of memory");
        vm_audio_deinit(out);
        goto out;
      }
      if (nc < n) n = nc;
    }
    out->n_samples = out->n_channel = n;
  }
out:
  dec_release(&d);
  return rc;
}

static int check_opts(const vm_audio_opts *opts, vm_err *err) {
  if (opts && (opts->sample_rate_hz < MIN_RATE_HZ ||
               opts->sample_rate_hz > MAX_RATE_HZ || opts->max_duration_s < 0 ||
               isnan(opts->max_duration_s)))
    return vm_err_set(err, VM_EINVAL, "invalid decode options");
  return VM_OK;
}

int vm_audio_decode_file(const char *path, const vm_audio_opts *opts,
                         vm_audio *out, vm_err *err) {
  vm__audio_src src = {.fd = -1};
  int rc;

  VM_ASSERT(out != NULL);
  memset(out, 0, sizeof *out);
  vm_err_clear(err);
  vm__audio_log_init();
  vm__audio_log_reset();
  if (!path) return vm_err_set(err, VM_EINVAL, "no path");
  if ((rc = check_opts(opts, err)) != VM_OK) return rc;
  if ((rc = vm__audio_src_open_file(&src, path, err)) != VM_OK) goto out;
  rc = decode_src(&src, path, opts, out, err);
out:
  if (src.fd >= 0) close(src.fd);
  if (rc) vm_audio_deinit(out);
  return rc;
}

int vm_audio_decode_memory(const void *data, size_t n, const char *name,
                           const vm_audio_opts *opts, vm_audio *out,
                           vm_err *err) {
  vm__audio_src src = {.fd = -1, .data = data, .size = (int64_t)n};
  int rc;

  VM_ASSERT(out != NULL);
  memset(out, 0, sizeof *out);
  vm_err_clear(err);
  vm__audio_log_init();
  vm__audio_log_reset();
  if (n == 0) return vm_err_set(err, VM_EEMPTY, "empty file (0 bytes)");
  if (!data || n > INT64_MAX)
    return vm_err_set(err, VM_EINVAL, "invalid buffer");
  if ((rc = check_opts(opts, err)) != VM_OK) return rc;
  rc = decode_src(&src, name ? name : "memory", opts, out, err);
  if (rc) vm_audio_deinit(out);
  return rc;
}
