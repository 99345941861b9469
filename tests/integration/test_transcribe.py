"""`voiceman transcribe FILE --model MODEL` with a random-weight model written
by vm_make_model (real vocabulary, tiny dims): every --format is well formed
and agrees with the JSON segments, options are honoured, bad models and bad
audio fail with exit 1 and a reason, usage errors exit 2.

A random model says nonsense, so the checks are on structure, not words.
vm_make_model comes from $VM_MAKE_MODEL (set by CMake) or next to voiceman."""
import json
import os
import re
import shutil
import subprocess

from vmtest import FIXTURES, Skip, ffprobe_duration, main, random_model, run, tmpdir

GOOD = os.path.join(FIXTURES, "good")
BAD = os.path.join(FIXTURES, "bad")
state = {}
FAST = ["--beam-size", "1", "--max-tokens", "24", "--threads", "2"]


def make_model():
    work = tmpdir("vmit-tr-")
    state["work"], state["model"] = work, random_model(work, 3)


def transcribe(path, *opts, check=0):
    return run("transcribe", path, "--model", state["model"], *opts, check=check)


def test_json_segments():
    make_model()
    p = transcribe(os.path.join(GOOD, "ko1.m4a"), "--format", "json", "--language", "ko",
                   *FAST)
    j = json.loads(p.stdout)
    assert j["source"] == "whisper" and j["language"] == "ko", j
    state["json"] = j
    dur = ffprobe_duration(os.path.join(GOOD, "ko1.m4a"))[0] + 0.05
    for s in j["segments"]:
        assert 0.0 <= s["start"] <= s["end"] <= dur, s
        assert s["text"] and s["text"] == s["text"].strip(), s
        s["text"].encode("utf-8")
        assert s["avg_logprob"] <= 0.0 and 0.0 <= s["no_speech_prob"] <= 1.0, s
        assert any(abs(s["temperature"] - 0.2 * k) < 1e-9 for k in range(6)), s
    starts = [s["start"] for s in j["segments"]]
    assert starts == sorted(starts), starts


def test_formats_agree():
    if "json" not in state:
        raise Skip("no model")
    path = os.path.join(GOOD, "ko1.m4a")
    segs = state["json"]["segments"]
    txt = transcribe(path, "--format", "txt", "--language", "ko", *FAST).stdout
    srt = transcribe(path, "--format", "srt", "--language", "ko", *FAST).stdout
    vtt = transcribe(path, "--format", "vtt", "--language", "ko", *FAST).stdout
    assert len(re.findall(r"^\[\d", txt, re.M)) == len(segs), txt
    for s in segs:
        assert s["text"] in txt and s["text"] in srt and s["text"] in vtt, s["text"]
    assert vtt.startswith("WEBVTT"), vtt[:40]
    cues = re.findall(r"^\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d$", srt, re.M)
    assert len(cues) == len(segs), srt
    assert len(re.findall(r"-->", vtt)) == len(segs), vtt


def test_deterministic_and_options():
    if "json" not in state:
        raise Skip("no model")
    path = os.path.join(GOOD, "ko1.m4a")
    again = json.loads(transcribe(path, "--format", "json", "--language", "ko", *FAST).stdout)
    assert again == state["json"]
    notime = json.loads(transcribe(path, "--format", "json", "--language", "ko",
                                   "--no-timestamps", "--no-fallback", *FAST).stdout)
    for s in notime["segments"]:  # one segment for the one window
        assert s["start"] == 0.0, s
    assert len(notime["segments"]) <= 1
    beam = transcribe(path, "--format", "json", "--beam-size", "2", "--best-of", "2",
                      "--max-tokens", "16", "--no-context", "--suppress-non-speech",
                      "--temperature", "0.4", "--threads", "1")
    j = json.loads(beam.stdout)
    assert j["language"], j
    for s in j["segments"]:
        assert s["temperature"] >= 0.4 - 1e-9, s


def test_long_audio_seeks():
    if "json" not in state:
        raise Skip("no model")
    # 40 s: two windows at least
    wav = os.path.join(state["work"], "long.wav")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=300:duration=40", "-ar", "16000", wav], check=True)
    p = transcribe(wav, "--format", "json", "--language", "en", "--no-fallback", *FAST)
    j = json.loads(p.stdout)
    for s in j["segments"]:
        assert 0.0 <= s["start"] <= s["end"] <= 40.0 + 1e-6, s


def test_bad_model_and_audio():
    if "json" not in state:
        raise Skip("no model")
    good = os.path.join(GOOD, "ko1.m4a")
    p = run("transcribe", good, "--model", os.path.join(BAD, "text.wav"))
    assert p.returncode == 1 and "not a whisper.cpp ggml model" in p.stderr, p.stderr
    trunc = os.path.join(state["work"], "truncated.bin")
    with open(state["model"], "rb") as f, open(trunc, "wb") as g:
        g.write(f.read(200000))
    p = run("transcribe", good, "--model", trunc)
    assert p.returncode == 1 and "truncated" in p.stderr.lower(), p.stderr
    p = run("transcribe", good, "--model", "/nonexistent/model.bin")
    assert p.returncode == 1 and "model" in p.stderr, p.stderr
    p = transcribe(os.path.join(BAD, "text.wav"), check=1)
    assert "not an audio file" in p.stderr, p.stderr
    p = transcribe(good, "--language", "xx", *FAST, check=1)
    assert "unknown language 'xx'" in p.stderr, p.stderr


def test_usage_errors():
    assert run("transcribe").returncode == 2
    assert run("transcribe", "a.wav").returncode == 2  # no --model
    p = run("transcribe", "a.wav", "--model", "m.bin", "--format", "doc")
    assert p.returncode == 2 and "--format" in p.stderr, p.stderr
    assert run("transcribe", "a.wav", "--model", "m.bin", "--beam-size", "0").returncode == 2
    assert run("transcribe", "a.wav", "--model", "m.bin", "--temperature", "2").returncode == 2
    p = run("transcribe", "--help")
    assert p.returncode == 0 and "--suppress-non-speech" in p.stdout
    assert "transcribe FILE" in run("--help").stdout


def test_cleanup():
    if "work" in state:
        shutil.rmtree(state["work"])


if __name__ == "__main__":
    main([test_json_segments, test_formats_agree, test_deterministic_and_options,
          test_long_audio_seeks, test_bad_model_and_audio, test_usage_errors, test_cleanup])
