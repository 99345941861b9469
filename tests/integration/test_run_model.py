"""`voiceman run --model`: the transcription stage of the batch pipeline with
a random-weight model written by vm_make_model (real vocabulary, tiny
dims). A random model says nonsense, so the checks are on structure: the
run completes, every file with speech has a well-formed, speaker-labelled
transcript from the engine with its views (.txt/.srt/.vtt) and report, a
silent file costs no transcription, the outputs verify, a rerun skips, and
a bad model is a set-up error that writes nothing."""
import json
import os
import shutil

from vmtest import FIXTURES, load_json, main, random_model, run, tmpdir

GOOD = os.path.join(FIXTURES, "good")
state = {}


def setup():
    work = tmpdir("vmit-rm-")
    model = random_model(work, 5)
    calls = os.path.join(work, "calls")
    os.makedirs(calls)
    for f in ("ko1.m4a", "split_stereo.wav", "silent.m4a"):
        shutil.copy(os.path.join(GOOD, f), calls)
    state.update(work=work, model=model, calls=calls, out=os.path.join(work, "out"))


def result(name):
    return load_json(os.path.join(state["out"], "files", "calls", name + ".json"))


def test_run_with_model():
    setup()
    run("run", state["calls"], "-o", state["out"], "--model", state["model"], "--language",
        "ko", "--beam-size", "1", "--threads", "2", "-q", check=0)


def test_transcripts_from_engine():
    for name in ("ko1.m4a", "split_stereo.wav"):
        r = result(name)
        st = r["stages"]["transcription"]
        assert st["status"] == "done" and st["source"] == "whisper", st
        assert st["model"] == state["model"], st
        assert r["versions"]["model"] == state["model"], r["versions"]
        tr = r["transcript"]
        assert tr["source"] == "whisper" and tr["language"] == "ko", tr
        dur = r["audio"]["duration_s"] + 0.05
        for s in tr["segments"]:
            assert 0 <= s["start"] <= s["end"] <= dur, s
            assert s["speaker"] and s["speaker"].startswith("SPEAKER_"), s
            assert s["avg_logprob"] is not None and s["avg_logprob"] <= 0, s
        assert r["stages"]["language"]["status"] == "done"
        assert r["language"]["patterns_version"], r["language"]
        outs = load_json(os.path.join(state["out"], "summary.json"))
        f = [x for x in outs["files"] if x["input"].endswith(name)][0]
        kinds = set(f["outputs"])
        assert {"json", "html"} <= kinds, kinds
        if tr["segments"]:
            assert {"txt", "srt", "vtt"} <= kinds, kinds


def test_silent_file_not_transcribed():
    r = result("silent.m4a")
    st = r["stages"]["transcription"]
    assert st["status"] == "skipped" and "voice activity" in st["reason"], st
    assert r["transcript"] is None and r["language"] is None


def test_outputs_verify_and_index():
    p = run("verify", state["out"], check=0)
    assert "0 changed, 0 missing" in p.stdout, p.stdout
    with open(os.path.join(state["out"], "index.html"), encoding="utf-8") as f:
        assert "ko1.m4a" in f.read()


def test_rerun_skips():
    p = run("run", state["calls"], "-o", state["out"], "--model", state["model"], "--language",
            "ko", "--beam-size", "1", "--log-json", check=0)
    s = load_json(os.path.join(state["out"], "summary.json"))
    assert all(f["status"] == "skipped" for f in s["files"]), [f["status"] for f in s["files"]]


def test_bad_model_is_setup_error():
    bad = os.path.join(state["work"], "bad.bin")
    with open(bad, "wb") as f:
        f.write(b"lmgg" + b"\0" * 100)
    out = os.path.join(state["work"], "out_bad")
    p = run("run", state["calls"], "-o", out, "--model", bad, check=2)
    assert "model" in p.stderr and bad in p.stderr, p.stderr
    assert not os.path.exists(out), os.listdir(out)
    p = run("run", state["calls"], "-o", out, "--model", state["model"], "--language", "xx",
            check=2)
    assert "--language xx" in p.stderr and not os.path.exists(out), p.stderr


if __name__ == "__main__":
    main([test_run_with_model, test_transcripts_from_engine, test_silent_file_not_transcribed,
          test_outputs_verify_and_index, test_rerun_skips, test_bad_model_is_setup_error])
