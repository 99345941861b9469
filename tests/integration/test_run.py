"""`voiceman run` on the generated fixtures: every good file completes with
the right duration and SHA-256, every bad one fails alone with its reason,
outputs are complete and atomic, a rerun skips exactly the unchanged files,
and the audit log verifies — and catches tampering."""
import fcntl
import json
import os
import shutil
import subprocess

from vmtest import (FIXTURES, Skip, copy_tree, db, ffprobe_duration, load_json, main, run,
                    sha256_file, temp_leftovers, tmpdir)

GOOD = os.path.join(FIXTURES, "good")
BAD = os.path.join(FIXTURES, "bad")
EXPECTED_BAD = {
    "empty.m4a": ("VM_EEMPTY", "empty file"),
    "random.m4a": ("VM_EFORMAT", "not an audio file"),
    "text.wav": ("VM_EFORMAT", "text"),
    "truncated.m4a": ("VM_EDECODE", "truncated"),
    "video_only.mp4": ("VM_ENOAUDIO", "no audio stream"),
}

state = {}


def setup_run():
    work = tmpdir()
    calls = os.path.join(work, "calls")
    copy_tree(GOOD, os.path.join(calls, "good"))
    copy_tree(BAD, os.path.join(calls, "bad"))
    # same file name in two folders: outputs must not collide
    os.makedirs(os.path.join(calls, "other"))
    shutil.copy(os.path.join(GOOD, "en1.mp3"), os.path.join(calls, "other", "ko1.m4a"))
    # a file with an unsupported extension is ignored, not an error
    with open(os.path.join(calls, "notes.txt"), "w") as f:
        f.write("case notes\n")
    state["work"], state["calls"], state["out"] = work, calls, os.path.join(work, "out")
    originals = {}
    for d, _, files in os.walk(calls):
        for f in files:
            p = os.path.join(d, f)
            originals[p] = sha256_file(p)
    state["originals"] = originals


def test_first_run():
    setup_run()
    p = run("run", state["calls"], "-o", state["out"], "--workers", "2", "--batch-size", "4")
    assert p.returncode == 1, f"exit {p.returncode} (bad files must make it 1)\n{p.stderr}"
    s = load_json(os.path.join(state["out"], "summary.json"))
    state["summary"] = s
    assert s["schema"] == "voiceman.summary/1"
    by_name = {os.path.relpath(f["input"], state["calls"]): f for f in s["files"]}
    n_good = len(os.listdir(GOOD)) + 1
    assert len(by_name) == n_good + len(EXPECTED_BAD), sorted(by_name)
    assert not any(k.endswith("notes.txt") for k in by_name)
    assert s["totals"]["completed"] == n_good, s["totals"]
    assert s["totals"]["failed"] == len(EXPECTED_BAD), s["totals"]


def test_good_files_complete_with_facts():
    s = state["summary"]
    for f in s["files"]:
        rel = os.path.relpath(f["input"], state["calls"])
        if rel.startswith("bad/"):
            continue
        assert f["status"] == "completed", (rel, f)
        assert f["error"] is None
        assert f["sha256"] == sha256_file(f["input"]), rel
        res = load_json(os.path.join(state["out"], f["outputs"]["json"]))
        assert res["schema"] == "voiceman.result/1"
        assert res["input"]["sha256"] == f["sha256"]
        assert res["input"]["size_bytes"] == os.path.getsize(f["input"])
        want, start = ffprobe_duration(f["input"])
        got = res["audio"]["duration_s"]
        # within 1 % of ffprobe, counting the encoder delay it reports as
        # start_time (gapless MP3 decoding drops those priming samples)
        assert min(abs(got - want), abs(got - (want - start))) <= 0.01 * want + 1e-3, \
            f"{rel}: duration {got} vs ffprobe {want} (start_time {start})"
        assert res["audio"]["analysis_sample_rate_hz"] == 16000
        assert res["audio"]["sample_rate_hz"] > 0 and res["audio"]["channels"] >= 1
        assert res["audio"]["codec"], rel
        assert res["stages"]["transcription"]["status"] == "skipped"
        assert "reason" in res["stages"]["transcription"]
        lv = res["levels"]
        if rel.endswith("silent.m4a"):
            assert lv["silent"] is True and res["speech_free"] is True, lv
        elif not rel.endswith("short_0.1s.wav"):
            assert lv["silent"] is False, (rel, lv)
            assert abs(res["loudness"]["integrated_lufs_after"] - (-23)) < 1.0 or \
                res["loudness"]["gain_limited"], (rel, res["loudness"])


def test_analysis_in_results():
    """The analysis stage fills acoustic, vad, diarization, speakers and
    segments; a stereo call with one party per channel is split by channel;
    silence yields nulls with reasons, never numbers."""
    s = state["summary"]
    res = {os.path.basename(f["input"]): load_json(os.path.join(state["out"], f["outputs"]["json"]))
           for f in s["files"] if f["status"] == "completed" and "/good/" in f["input"]}
    for name, r in res.items():
        for key in ("acoustic", "vad", "diarization", "speakers", "segments"):
            assert key in r, (name, key)
        assert r["stages"]["voice"]["status"] == "done"
    ko = res["ko1.m4a"]["acoustic"]
    assert 60 < ko["f0_mean_hz"] < 400, ko["f0_mean_hz"]
    assert 0.2 < ko["voiced_fraction"] <= 1, ko
    assert 0 < ko["jitter_local"] < 0.2 and 0 < ko["shimmer_local"] < 0.5, ko
    assert 0 < ko["speech_ratio"] <= 1 and isinstance(ko["pauses"], list), ko
    assert res["ko1.m4a"]["diarization"]["n_speakers"] == 1, res["ko1.m4a"]["diarization"]
    st = res["split_stereo.wav"]
    assert st["audio"]["channels_analysed_apart"] is True
    assert st["diarization"]["method"] == "stereo-channels", st["diarization"]["method"]
    assert st["diarization"]["n_speakers"] == 2, st["diarization"]
    assert len(st["speakers"]) == 2 and all("acoustic" in x for x in st["speakers"])
    f0 = [x["acoustic"]["f0_mean_hz"] for x in st["speakers"]]
    assert all(v and v > 50 for v in f0), f0
    assert {seg["speaker"] for seg in st["segments"]} == {"SPEAKER_00", "SPEAKER_01"}
    sil = res["silent.m4a"]
    assert sil["acoustic"]["f0_mean_hz"] is None
    assert sil["acoustic"]["null_reasons"]["f0_mean_hz"], sil["acoustic"]
    assert sil["diarization"]["n_speakers"] == 0 and sil["segments"] == [], sil["diarization"]


def test_bad_files_fail_with_reason():
    s = state["summary"]
    for f in s["files"]:
        name = os.path.basename(f["input"])
        if name not in EXPECTED_BAD or "/bad/" not in f["input"]:
            continue
        code, words = EXPECTED_BAD[name]
        assert f["status"] == "failed", f
        assert f["error_code"] == code, (name, f["error_code"], f["error"])
        assert words in f["error"], (name, f["error"])
        assert "-10" not in f["error"] and "error -" not in f["error"], f["error"]
        assert f["outputs"] == {}, f


def test_outputs_distinct_and_atomic():
    s = state["summary"]
    paths = [f["outputs"]["json"] for f in s["files"] if f["status"] == "completed"]
    assert len(paths) == len(set(paths)), "two inputs share an output"
    assert all(not os.path.isabs(p) and ".." not in p.split("/") for p in paths)
    assert temp_leftovers(state["out"]) == []
    # the Hangul name survives intact
    assert any("통화 녹음" in p for p in paths), paths


def test_store_rows():
    con = db(state["out"])
    rows = dict(con.execute("SELECT state, COUNT(*) FROM files GROUP BY state").fetchall())
    assert rows.get("completed") == state["summary"]["totals"]["completed"], rows
    assert rows.get("failed") == len(EXPECTED_BAD), rows
    assert "in_progress" not in rows
    ex = con.execute("SELECT f.path, COUNT(e.id) FROM files f LEFT JOIN executions e "
                     "ON e.file_id = f.id WHERE f.state='completed' GROUP BY f.id").fetchall()
    assert all(n == 1 for _, n in ex), ex
    nb = con.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
    total = len(state["summary"]["files"])
    assert nb == (total + 3) // 4, (nb, total)
    b = state["summary"]["batches"]
    assert sum(x["total_files"] for x in b) == total
    assert all(x["end_time"] and x["duration_seconds"] >= 0 and x["peak_rss_mb"] > 0 for x in b), b


def test_originals_untouched():
    for p, h in state["originals"].items():
        assert sha256_file(p) == h, f"{p} was modified"


def test_rerun_skips_unchanged_and_redoes_changed():
    # change one good file's content (same size is not needed: mtime/size/hash all checked)
    target = os.path.join(state["calls"], "good", "en1.flac")
    shutil.copy(os.path.join(GOOD, "ko1.m4a"), target)
    p = run("run", state["calls"], "-o", state["out"], "--workers", "2", "--batch-size", "4")
    assert p.returncode == 1, p.stderr
    s = load_json(os.path.join(state["out"], "summary.json"))
    st = {os.path.relpath(f["input"], state["calls"]): f["status"] for f in s["files"]}
    assert st["good/en1.flac"] == "completed", st
    others = [k for k in st if k.startswith(("good/", "other/")) and k != "good/en1.flac"]
    assert others and all(st[k] == "skipped" for k in others), st
    assert all(st[k] == "failed" for k in st if k.startswith("bad/")), st
    con = db(state["out"])
    n = con.execute("SELECT COUNT(e.id) FROM executions e JOIN files f ON f.id=e.file_id "
                    "WHERE f.path LIKE '%/good/en1.flac'").fetchone()[0]
    assert n == 2, n
    n = con.execute("SELECT MAX(c) FROM (SELECT COUNT(e.id) c FROM executions e JOIN files f "
                    "ON f.id=e.file_id WHERE f.path NOT LIKE '%/good/en1.flac' "
                    "GROUP BY f.id)").fetchone()[0]
    assert n == 1, n


def test_deleted_output_is_redone():
    s = load_json(os.path.join(state["out"], "summary.json"))
    f = next(x for x in s["files"] if x["input"].endswith("good/ko2.amr"))
    os.unlink(os.path.join(state["out"], f["outputs"]["json"]))
    run("run", os.path.join(state["calls"], "good"), "-o", state["out"], check=0)
    s = load_json(os.path.join(state["out"], "summary.json"))
    st = {os.path.basename(x["input"]): x["status"] for x in s["files"]}
    assert st["ko2.amr"] == "completed" and st["ko1.m4a"] == "skipped", st


def test_status_command():
    p = run("status", state["out"], check=0)
    assert "failed" in p.stdout and "truncated" in p.stdout, p.stdout
    assert "batches" in p.stdout


def test_verify_clean_then_tampered():
    p = run("verify", state["out"], check=0)
    assert "chain intact" in p.stdout, p.stdout
    s = load_json(os.path.join(state["out"], "summary.json"))
    f = next(x for x in s["files"] if x["status"] in ("completed", "skipped"))
    out_json = os.path.join(state["out"], f["outputs"]["json"])
    with open(out_json, "a") as fh:
        fh.write(" ")
    p = run("verify", state["out"])
    assert p.returncode == 1, p.stdout
    assert f["outputs"]["json"] in p.stdout and "changed" in p.stdout, p.stdout
    # an original changed after analysis is detected too
    orig = next(x["input"] for x in s["files"] if x["input"].endswith("good/ko2.mp4"))
    with open(orig, "ab") as fh:
        fh.write(b"\0")
    p = run("verify", state["out"])
    assert "ko2.mp4" in p.stdout, p.stdout
    # editing a line of the log breaks the chain
    log = os.path.join(state["out"], "audit.jsonl")
    lines = open(log, encoding="utf-8").read().splitlines(keepends=True)
    lines[3] = lines[3].replace('"event"', '"event" ', 1)
    open(log, "w", encoding="utf-8").writelines(lines)
    p = run("verify", state["out"], "--no-inputs")
    assert p.returncode == 1 and "BROKEN" in p.stdout, p.stdout


def test_second_run_refused_while_locked():
    out = os.path.join(state["work"], "locked")
    os.makedirs(out)
    with open(os.path.join(out, "voiceman.db.lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX | fcntl.LOCK_NB)
        p = run("run", GOOD, "-o", out)
        assert p.returncode == 2, (p.returncode, p.stderr)
        assert "another voiceman run" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(out, "summary.json"))


def test_usage_errors():
    assert run("run", GOOD).returncode == 2
    assert run("run", "-o", tmpdir()).returncode == 2
    assert run("run", GOOD, "-o", tmpdir(), "--workers", "0").returncode == 2
    assert run("frobnicate").returncode == 2
    assert run("--version", check=0).stdout.startswith("voiceman ")
    for cmd in ("run", "status", "analyze", "verify"):
        p = run(cmd, "--help", check=0)
        assert "Usage: voiceman " + cmd in p.stdout, p.stdout
    # a missing input is reported, the rest still runs
    out = tmpdir()
    p = run("run", os.path.join(GOOD, "ko1.m4a"), "/nonexistent/x.m4a", "-o", out)
    assert p.returncode == 1 and "no such file" in p.stderr, p.stderr
    s = load_json(os.path.join(out, "summary.json"))
    assert s["totals"]["completed"] == 1 and s["rejected"][0]["input"] == "/nonexistent/x.m4a"


def test_log_json_events():
    out = tmpdir()
    p = run("run", os.path.join(GOOD, "ko1.m4a"), os.path.join(BAD, "empty.m4a"), "-o", out,
            "--log-json")
    assert p.returncode == 1, p.stderr
    events = [json.loads(line) for line in p.stderr.splitlines() if line.strip()]
    files = {os.path.basename(e["input"]): e for e in events if e["event"] == "file"}
    assert files["ko1.m4a"]["status"] == "completed" and files["ko1.m4a"]["error"] is None
    assert files["empty.m4a"]["status"] == "failed" and "empty" in files["empty.m4a"]["error"]
    assert any(e["event"] == "start" for e in events)
    q = run("run", os.path.join(GOOD, "ko1.m4a"), "-o", out, "--quiet")
    assert q.returncode == 0 and q.stderr == "", q.stderr


def test_analyze_command():
    p = run("analyze", os.path.join(GOOD, "ko1_stereo44k.wav"), check=0)
    j = json.loads(p.stdout)
    assert j["audio"]["sample_rate_hz"] == 44100 and j["audio"]["channels"] == 2
    assert j["sha256"] == sha256_file(os.path.join(GOOD, "ko1_stereo44k.wav"))
    keys = ["duration_s", "f0_mean_hz", "f0_median_hz", "f0_sd_hz", "f0_min_hz", "f0_max_hz",
            "voiced_fraction", "jitter_local", "jitter_rap", "jitter_ppq5", "shimmer_local",
            "shimmer_apq3", "shimmer_apq5", "hnr_db", "f1_mean_hz", "f2_mean_hz", "f3_mean_hz",
            "intensity_mean_db", "intensity_max_db", "speech_ratio", "pauses"]
    missing = [k for k in keys if k not in j["acoustic"]]
    assert not missing, missing
    # the same voice on both channels: no channel split, one speaker
    assert j["diarization"]["method"] != "stereo-channels", j["diarization"]["method"]
    # a narrower pitch range changes what is found
    lo = json.loads(run("analyze", os.path.join(GOOD, "ko1_stereo44k.wav"), "--pitch-floor",
                        "200", "--pitch-ceiling", "600", check=0).stdout)
    assert lo["acoustic"]["f0_mean_hz"] is None or \
        lo["acoustic"]["f0_mean_hz"] > j["acoustic"]["f0_mean_hz"], (lo["acoustic"]["f0_mean_hz"],)
    assert run("analyze", os.path.join(GOOD, "ko1.m4a"), "--pitch-floor", "500",
               "--pitch-ceiling", "100").returncode == 2
    p = run("analyze", os.path.join(BAD, "text.wav"))
    assert p.returncode == 1 and "not an audio file" in p.stderr, p.stderr


if __name__ == "__main__":
    main([test_first_run, test_good_files_complete_with_facts, test_analysis_in_results,
          test_bad_files_fail_with_reason,
          test_outputs_distinct_and_atomic, test_store_rows, test_originals_untouched,
          test_rerun_skips_unchanged_and_redoes_changed, test_deleted_output_is_redone,
          test_status_command, test_verify_clean_then_tampered,
          test_second_run_refused_while_locked, test_usage_errors, test_log_json_events,
          test_analyze_command])
