#!/usr/bin/python3
"""ref_whisper.py — an independent float64 reference of Whisper for tests.

Written from the Whisper architecture (Radford et al., "Robust Speech
Recognition via Large-Scale Weak Supervision", 2022, and the published
model definition), not from voiceman's C code: its own ggml file parser,
its own dequantisation, numpy's FFT for the STFT, and a decoder that
recomputes the whole prefix with a causal mask (no KV cache), so the C
engine's caching, batching and blocking are checked against plain maths.

Usage:
  ref_whisper.py MODEL.bin --audio PCM.f32 [--tokens 1,2,3] --out OUT.bin
      PCM.f32: raw little-endian float32 samples at 16 kHz.
      OUT.bin: three blocks, each an int64 element count followed by that
      many float64 values: mel (n_mels, 3000), encoder output
      (n_audio_ctx, n_state), logits (n_tokens, n_vocab) (empty without
      --tokens).
  ref_whisper.py MODEL.bin --audio PCM.f32 --prompt 1,2,3 --greedy N --out OUT.txt
      Greedy decoding of up to N tokens after the prompt with Whisper's
      logit rules (suppress blank, special tokens, timestamp rules with the
      first timestamp <= 1.0 s; see greedy() below), on the window as the
      long-form reference builds it: log-mel of the audio, frames past the
      audio's end set to 0. OUT.txt: the sampled tokens (end-of-text
      excluded) on one line, the sum of their log-probabilities (end-of-
      text included) on the next, and the smallest margin between the
      chosen and the second logit on the third.
  ref_whisper.py MODEL.bin --audio PCM.f32 --prompt ... --greedy N --beam B --out OUT.txt
      The same with beam search (B beams, patience 1, ranked by
      sum_logprob / length, as the reference decoder); the margin line is 0.
  ref_whisper.py MODEL.bin --check-filters mel_filters.npz
      Prints the max |difference| between the model's mel filters and the
      reference filter bank.
Exit status 0 on success.
"""
import math
import struct
import sys

import numpy as np

QK = 32


def f16(raw):
    return np.frombuffer(raw, dtype="<f2").astype(np.float64)


def dequant(ttype, raw, n):
    if ttype == 0:
        return np.frombuffer(raw, dtype="<f4").astype(np.float64)
    if ttype == 1:
        return f16(raw)
    nb = n // QK
    if ttype == 8:  # q8_0: f16 scale + 32 int8
        blk = np.frombuffer(raw, dtype=np.uint8).reshape(nb, 34)
        d = f16(blk[:, :2].tobytes())
        q = blk[:, 2:].view(np.int8).astype(np.float64)
        return (q * d[:, None]).reshape(-1)
    if ttype == 6:  # q5_0: f16 scale, u32 high bits, 16 bytes of nibbles
        blk = np.frombuffer(raw, dtype=np.uint8).reshape(nb, 22)
        d = f16(blk[:, :2].tobytes())
        qh = blk[:, 2:6].copy().view("<u4").reshape(nb).astype(np.int64)
        qs = blk[:, 6:].astype(np.int64)
        bits = (qh[:, None] >> np.arange(32)[None, :]) & 1
        lo = (qs & 15) | (bits[:, :16] << 4)
        hi = (qs >> 4) | (bits[:, 16:] << 4)
        q = np.concatenate([lo, hi], axis=1) - 16
        return (q * d[:, None]).reshape(-1)
    raise ValueError("unsupported tensor type %d" % ttype)


def read_model(path):
    data = open(path, "rb").read()
    pos = 0

    def i32(count=1):
        nonlocal pos
        v = struct.unpack_from("<%di" % count, data, pos)
        pos += 4 * count
        return v
    magic = struct.unpack_from("<I", data, 0)[0]
    pos = 4
    assert magic == 0x67676D6C, "bad magic"
    keys = ["n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head",
            "n_audio_layer", "n_text_ctx", "n_text_state", "n_text_head",
            "n_text_layer", "n_mels", "ftype"]
    hp = dict(zip(keys, i32(11)))
    n_mel, n_fft = i32(2)
    filters = np.frombuffer(data, dtype="<f4", count=n_mel * n_fft, offset=pos)
    filters = filters.astype(np.float64).reshape(n_mel, n_fft)
    pos += 4 * n_mel * n_fft
    (n_tok,) = i32()
    for _ in range(n_tok):
        (ln,) = i32()
        pos += ln
    w = {}
    while pos < len(data):
        n_dims, name_len, ttype = i32(3)
        ne = i32(n_dims)
        name = data[pos:pos + name_len].decode()
        pos += name_len
        n = int(np.prod(ne))
        if ttype in (0, 1):
            nbytes = n * (4 if ttype == 0 else 2)
        else:
            nbytes = n // QK * (34 if ttype == 8 else 22)
        arr = dequant(ttype, data[pos:pos + nbytes], n)
        pos += nbytes
        w[name] = arr.reshape(tuple(reversed(ne)))  # torch order
    return hp, filters, w


def log_mel(audio, filters):
    n_fft, hop = 400, 160
    x = np.concatenate([audio.astype(np.float64), np.zeros(480000)])
    x = np.pad(x, (n_fft // 2, n_fft // 2), mode="reflect")
    n_frames = 1 + (len(x) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic
    spec = np.fft.rfft(x[idx] * window, axis=1)
    power = (np.abs(spec) ** 2)[:-1]  # the last frame is dropped
    mel = filters @ power.T
    logm = np.log10(np.maximum(mel, 1e-10))
    logm = np.maximum(logm, logm.max() - 8.0)
    return ((logm + 4.0) / 4.0)[:, :3000]


_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def conv1d(x, w, b, stride):
    """x (c_in, t), w (c_out, c_in, 3), padding 1."""
    xp = np.pad(x, ((0, 0), (1, 1)))
    t_out = (x.shape[1] - 1) // stride + 1
    y = np.empty((w.shape[0], t_out))
    for t in range(t_out):
        y[:, t] = np.einsum("ock,ck->o", w, xp[:, t * stride:t * stride + 3])
    return y + b.reshape(-1, 1)


def mha(w, pre, x, xa, n_head, causal):
    q = x @ w[pre + ".query.weight"].T + w[pre + ".query.bias"]
    k = xa @ w[pre + ".key.weight"].T
    v = xa @ w[pre + ".value.weight"].T + w[pre + ".value.bias"]
    d = q.shape[1] // n_head
    out = np.empty_like(q)
    for h in range(n_head):
        sl = slice(h * d, (h + 1) * d)
        s = (q[:, sl] @ k[:, sl].T) / math.sqrt(d)
        if causal:
            s = s + np.triu(np.full(s.shape, -np.inf), 1)
        s = np.exp(s - s.max(axis=1, keepdims=True))
        out[:, sl] = (s / s.sum(axis=1, keepdims=True)) @ v[:, sl]
    return out @ w[pre + ".out.weight"].T + w[pre + ".out.bias"]


def block(w, pre, x, xa, n_head, causal, cross):
    h = layer_norm(x, w[pre + ".attn_ln.weight"], w[pre + ".attn_ln.bias"])
    x = x + mha(w, pre + ".attn", h, h, n_head, causal)
    if cross:
        h = layer_norm(x, w[pre + ".cross_attn_ln.weight"], w[pre + ".cross_attn_ln.bias"])
        x = x + mha(w, pre + ".cross_attn", h, xa, n_head, False)
    h = layer_norm(x, w[pre + ".mlp_ln.weight"], w[pre + ".mlp_ln.bias"])
    h = gelu(h @ w[pre + ".mlp.0.weight"].T + w[pre + ".mlp.0.bias"])
    return x + h @ w[pre + ".mlp.2.weight"].T + w[pre + ".mlp.2.bias"]


def sinusoids(length, channels):
    inc = math.log(10000) / (channels // 2 - 1)
    inv = np.exp(-inc * np.arange(channels // 2))
    t = np.arange(length)[:, None] * inv[None, :]
    return np.concatenate([np.sin(t), np.cos(t)], axis=1)


def encoder(hp, w, mel):
    n_ctx = hp["n_audio_ctx"]
    x = gelu(conv1d(mel[:, :2 * n_ctx], w["encoder.conv1.weight"],
                    w["encoder.conv1.bias"], 1))
    x = gelu(conv1d(x, w["encoder.conv2.weight"], w["encoder.conv2.bias"], 2)).T
    pos = w["encoder.positional_embedding"]
    # The stored positions must be Whisper's sinusoids (f32-rounded).
    assert np.abs(pos - sinusoids(n_ctx, pos.shape[1])).max() < 1e-6
    x = x + pos
    for i in range(hp["n_audio_layer"]):
        x = block(w, "encoder.blocks.%d" % i, x, None, hp["n_audio_head"], False, False)
    return layer_norm(x, w["encoder.ln_post.weight"], w["encoder.ln_post.bias"])


def decoder(hp, w, tokens, xa):
    emb = w["decoder.token_embedding.weight"]
    x = emb[tokens] + w["decoder.positional_embedding"][:len(tokens)]
    for i in range(hp["n_text_layer"]):
        x = block(w, "decoder.blocks.%d" % i, x, xa, hp["n_text_head"], True, True)
    x = layer_norm(x, w["decoder.ln.weight"], w["decoder.ln.bias"])
    return x @ emb.T


def specials(n_vocab):
    multi = n_vocab >= 51865
    eot = 50257 if multi else 50256
    return eot, n_vocab - 1501  # eot, first timestamp


def apply_rules(x, sampled, eot, tb, blank=220, max_initial=50):
    """Whisper's logit filters, written from the published decoding rules."""
    x = x.copy()
    if not sampled:
        x[blank] = -np.inf
        x[eot] = -np.inf
    x[eot + 1:tb] = -np.inf  # special tokens
    ts = [t for t in sampled if t >= tb]
    last = len(sampled) >= 1 and sampled[-1] >= tb
    penult = len(sampled) < 2 or sampled[-2] >= tb
    if last:
        if penult:
            x[tb:] = -np.inf
        else:
            x[:eot] = -np.inf
    if ts:
        x[tb:ts[-1] + (0 if last and not penult else 1)] = -np.inf
    if not sampled:
        x[:tb] = -np.inf
        x[tb + max_initial + 1:] = -np.inf
    m = x.max()
    lp = x - (m + np.log(np.exp(x - m).sum()))
    tsum = np.exp(lp[tb:]).sum()
    if tsum > 0 and np.log(tsum) > lp[:tb].max():
        x[:tb] = -np.inf
    return x


def greedy(hp, w, enc, prompt, n_max):
    eot, tb = specials(hp["n_vocab"])
    toks, out, total, margin = list(prompt), [], 0.0, np.inf
    for _ in range(n_max):
        x = apply_rules(decoder(hp, w, np.array(toks), enc)[-1], out, eot, tb)
        order = np.argsort(-x, kind="stable")
        nxt = int(order[0])
        margin = min(margin, x[order[0]] - x[order[1]])
        m = x.max()
        total += x[nxt] - (m + np.log(np.exp(x - m).sum()))
        if nxt == eot:
            break
        out.append(nxt)
        toks.append(nxt)
    return out, total, margin


def log_softmax(x):
    m = x.max()
    return x - (m + np.log(np.exp(x - m).sum()))


def beam_search(hp, w, enc, prompt, n_max, n_beam):
    """Beam search as the reference decoder runs it with patience 1."""
    eot, tb = specials(hp["n_vocab"])
    beams, finished = [([], 0.0)], {}
    for _ in range(n_max):
        scores, order = {}, []
        for toks, slp in beams:
            lp = log_softmax(apply_rules(decoder(hp, w, np.array(prompt + toks), enc)[-1],
                                         toks, eot, tb))
            top = [t for t in np.argsort(-lp, kind="stable")[:n_beam + 1] if lp[t] > -np.inf]
            for t in top:
                seq = tuple(toks + [int(t)])
                if seq not in scores:
                    order.append(seq)
                scores[seq] = slp + lp[t]
        ranked = sorted(order, key=lambda q: -scores[q])
        beams, newly = [], []
        for seq in ranked:
            if seq[-1] == eot:
                newly.append(seq)
            else:
                beams.append((list(seq), scores[seq]))
                if len(beams) == n_beam:
                    break
        for seq in newly:
            if len(finished) >= n_beam:
                break
            finished[seq] = scores[seq]
        if len(finished) >= n_beam or not beams:
            break
    for toks, slp in sorted(beams, key=lambda b: -b[1]):
        if len(finished) >= n_beam:
            break
        finished[tuple(toks + [eot])] = slp

    def length(q):
        return max(len(q) - (1 if q[-1] == eot else 0), 1)
    best = max(finished, key=lambda q: finished[q] / length(q))
    return [t for t in best if t != eot], finished[best], 0.0


def write_block(f, arr):
    a = np.ascontiguousarray(arr, dtype="<f8").reshape(-1)
    f.write(struct.pack("<q", a.size))
    f.write(a.tobytes())


def main(argv):
    model, audio, tokens, out, npz = argv[1], None, None, None, None
    prompt, n_greedy, n_beam = None, 0, 1
    i = 2
    while i < len(argv):
        if argv[i] == "--audio":
            audio = argv[i + 1]
        elif argv[i] == "--tokens":
            tokens = [int(t) for t in argv[i + 1].split(",") if t]
        elif argv[i] == "--out":
            out = argv[i + 1]
        elif argv[i] == "--prompt":
            prompt = [int(t) for t in argv[i + 1].split(",") if t]
        elif argv[i] == "--greedy":
            n_greedy = int(argv[i + 1])
        elif argv[i] == "--beam":
            n_beam = int(argv[i + 1])
        elif argv[i] == "--check-filters":
            npz = argv[i + 1]
        else:
            raise SystemExit("unknown option " + argv[i])
        i += 2
    hp, filters, w = read_model(model)
    if npz:
        ref = np.load(npz)["mel_%d" % hp["n_mels"]].astype(np.float64)
        print("%.9g" % np.abs(ref - filters).max())
        return 0
    pcm = np.fromfile(audio, dtype="<f4")
    mel = log_mel(pcm, filters)
    if n_greedy:
        mel = mel.copy()
        mel[:, len(pcm) // 160:] = 0.0  # the long-form window's zero padding
        enc = encoder(hp, w, mel)
        if n_beam > 1:
            toks, total, margin = beam_search(hp, w, enc, prompt, n_greedy, n_beam)
        else:
            toks, total, margin = greedy(hp, w, enc, prompt, n_greedy)
        with open(out, "w") as f:
            f.write(",".join(map(str, toks)) + "\n%.9g\n%.9g\n" % (total, margin))
        return 0
    enc = encoder(hp, w, mel)
    logits = decoder(hp, w, np.array(tokens), enc) if tokens else np.zeros(0)
    with open(out, "wb") as f:
        for a in (mel, enc, logits):
            write_block(f, a)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
