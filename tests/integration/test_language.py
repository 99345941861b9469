"""Language forensics end to end: `voiceman run --transcripts` on
conversations synthesised here with planted threats, gaslighting and
coercion by a known speaker at known times, and on a neutral control.

Each conversation is built turn by turn with espeak-ng (two clearly
different voices), so the true turn times are known; its transcript is a
WebVTT file with <v NAME> voice tags (planted) or an SRT file without
speakers (control), timed from the synthesised turns. Every planted
finding must be reported with the right type, speaker and time (±1 s),
and the control must give no finding of any abusive kind."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmtest import Skip, load_json, main, run, tmpdir  # noqa: E402

A = ("김민수", ["-v", "ko", "-p", "25", "-s", "150"])
B = ("이지은", ["-v", "ko+f3", "-p", "75", "-s", "160"])

# (speaker, text, planted finding type or None)
PLANTED = [
    (B, "안녕하세요, 잠깐 통화 괜찮으세요?", None),
    (A, "내일까지 돈 안 갚으면 죽여버릴 거야.", "threat"),
    (B, "왜 그러세요, 정말 무서워요.", None),
    (A, "내가 언제 그랬어? 네가 잘못 기억하는 거야.", "gaslighting"),
    (B, "분명히 어제 들었어요.", None),
    (A, "그 친구 만나지 마. 앞으로 나한테 허락받아.", "coercion"),
]

CONTROL = [
    (A, "내일 점심 같이 드실래요?", None),
    (B, "네 좋아요. 열두 시에 회사 앞에서 만나요.", None),
    (A, "날씨가 많이 추워졌네요.", None),
    (B, "따뜻하게 입고 오세요. 내일 봬요.", None),
]

ABUSIVE = {"threat", "gaslighting", "coercion", "insult", "extortion", "fraud"}
GAP = 0.7


def have(prog):
    return shutil.which(prog) is not None


def synth(turns, tmp, name):
    """Writes tmp/name.wav; returns [(start, end, speaker, text, kind)]."""
    parts, times, t = [], [], 0.0
    gap = os.path.join(tmp, "gap.wav")
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", gap, "trim", "0", str(GAP)],
                   check=True)
    for i, ((who, voice), text, kind) in enumerate(turns):
        raw = os.path.join(tmp, f"{name}_raw{i}.wav")
        wav = os.path.join(tmp, f"{name}_t{i}.wav")
        subprocess.run(["espeak-ng", *voice, "-w", raw, text], check=True)
        subprocess.run(["sox", raw, "-r", "16000", "-c", "1", wav], check=True)
        d = float(subprocess.run(["soxi", "-D", wav], capture_output=True, text=True,
                                 check=True).stdout)
        times.append((t, t + d, who, text, kind))
        parts += [wav, gap]
        t += d + GAP
    subprocess.run(["sox", *parts, os.path.join(tmp, name + ".wav")], check=True)
    return times


def stamp(t, sep):
    ms = int(round(t * 1000))
    return "%02d:%02d:%02d%s%03d" % (ms // 3600000, ms // 60000 % 60, ms // 1000 % 60, sep,
                                     ms % 1000)


def write_vtt(path, times):
    with open(path, "w", encoding="utf-8") as f:
        f.write("WEBVTT\n\n")
        for s, e, who, text, _ in times:
            f.write(f"{stamp(s, '.')} --> {stamp(e, '.')}\n<v {who}>{text}\n\n")


def write_srt(path, times):
    with open(path, "w", encoding="utf-8") as f:
        for i, (s, e, _, text, _) in enumerate(times, 1):
            f.write(f"{i}\n{stamp(s, ',')} --> {stamp(e, ',')}\n{text}\n\n")


STATE = {}


def setup():
    if not (have("espeak-ng") and have("sox") and have("soxi") and have("ffmpeg")):
        raise Skip("espeak-ng, sox or ffmpeg missing")
    tmp = tmpdir()
    calls, trs = os.path.join(tmp, "calls"), os.path.join(tmp, "transcripts")
    os.makedirs(os.path.join(calls, "sub"))
    os.makedirs(os.path.join(trs, "sub"))
    planted = synth(PLANTED, tmp, "planted")
    control = synth(CONTROL, tmp, "control")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i",
                    os.path.join(tmp, "planted.wav"), "-c:a", "aac", "-b:a", "64k",
                    os.path.join(calls, "sub", "planted.m4a")], check=True)
    shutil.copy(os.path.join(tmp, "control.wav"), os.path.join(calls, "control.wav"))
    write_vtt(os.path.join(trs, "sub", "planted.vtt"), planted)
    write_srt(os.path.join(trs, "control.srt"), control)
    out = os.path.join(tmp, "out")
    p = run("run", calls, "-o", out, "--transcripts", trs, "-q")
    STATE.update(tmp=tmp, calls=calls, trs=trs, out=out, planted=planted, control=control,
                 rc=p.returncode, stderr=p.stderr)


def result(name):
    return load_json(os.path.join(STATE["out"], "files", "calls", name + ".json"))


def test_run_completes():
    if not STATE:
        setup()
    assert STATE["rc"] == 0, STATE["stderr"]


def test_transcript_taken_with_speakers():
    r = result("sub/planted.m4a")
    st = r["stages"]["transcription"]
    assert st["status"] == "done" and st["source"] == "file", st
    assert st["path"].endswith("sub/planted.vtt"), st
    speakers = {s["speaker"] for s in r["transcript"]["segments"]}
    assert speakers == {A[0], B[0]}, speakers
    for ext in ("txt", "srt", "vtt"):
        p = os.path.join(STATE["out"], "files", "calls", "sub", "planted.m4a." + ext)
        with open(p, encoding="utf-8") as f:
            body = f.read()
        assert "죽여버릴" in body, (ext, body[:200])
        if ext == "vtt":
            assert f"<v {A[0]}>" in body, body[:300]


def test_every_planted_finding_reported():
    lang = result("sub/planted.m4a")["language"]
    matches = lang["matches"]
    for s, e, who, text, kind in STATE["planted"]:
        if not kind:
            continue
        hits = [m for m in matches if m["type"] == kind and m["speaker"] == who
                and m["start"] >= s - 1.0 and m["end"] <= e + 1.0]
        assert hits, f"planted {kind} by {who} at {s:.1f}-{e:.1f} s ({text}) not found in " \
                     f"{[(m['type'], m['speaker'], m['start'], m['text']) for m in matches]}"
    # nothing abusive attributed to the other party
    wrong = [m for m in matches if m["type"] in ABUSIVE and m["speaker"] == B[0]]
    assert not wrong, wrong


def test_scores_per_speaker():
    sc = result("sub/planted.m4a")["language"]["scores"]
    conv = sc["conversation"]
    assert 0 <= conv["overall"] <= 100
    assert conv["risk_level"] in ("minimal", "low", "moderate", "high", "critical")
    a, b = sc["speakers"][A[0]], sc["speakers"][B[0]]
    assert a["categories"]["threat"]["score"] > b["categories"]["threat"]["score"], (a, b)
    assert a["overall"] > b["overall"], (a["overall"], b["overall"])


def test_control_has_no_findings():
    r = result("control.wav")
    assert r["stages"]["transcription"]["status"] == "done"
    bad = [m for m in r["language"]["matches"] if m["type"] in ABUSIVE]
    assert not bad, bad
    assert r["language"]["scores"]["conversation"]["risk_level"] == "minimal"
    # the SRT had no speakers: diarization labelled the segments
    assert all(s["speaker"] for s in r["transcript"]["segments"])


def test_broken_transcript_fails_only_that_file():
    tmp = STATE["tmp"]
    trs = os.path.join(tmp, "broken_trs")
    os.makedirs(trs)
    with open(os.path.join(trs, "control.srt"), "w") as f:
        f.write("1\n00:00:05,000 --> 00:00:01,000\nbackwards\n")
    out = os.path.join(tmp, "out_broken")
    p = run("run", STATE["calls"], "-o", out, "--transcripts", trs, "-q")
    assert p.returncode == 1, p.stderr
    s = load_json(os.path.join(out, "summary.json"))
    by = {os.path.basename(f["input"]): f for f in s["files"]}
    assert by["control.wav"]["status"] == "failed"
    assert "control.srt" in by["control.wav"]["error"], by["control.wav"]["error"]
    assert by["planted.m4a"]["status"] == "completed"


def test_analyze_with_transcript():
    import json
    audio = os.path.join(STATE["calls"], "sub", "planted.m4a")
    vtt = os.path.join(STATE["trs"], "sub", "planted.vtt")
    p = run("analyze", audio, "--transcript", vtt, check=0)
    r = json.loads(p.stdout)
    kinds = {(m["type"], m["speaker"]) for m in r["language"]["matches"]}
    assert {("threat", A[0]), ("gaslighting", A[0]), ("coercion", A[0])} <= kinds, kinds
    assert {s["speaker"] for s in r["transcript"]["segments"]} == {A[0], B[0]}
    p = run("analyze", audio, "--transcript", os.path.join(STATE["tmp"], "none.srt"), check=1)
    assert "none.srt" in p.stderr, p.stderr


def test_missing_transcripts_folder_is_usage_error():
    p = run("run", STATE["calls"], "-o", os.path.join(STATE["tmp"], "o3"), "--transcripts",
            os.path.join(STATE["tmp"], "nope"))
    assert p.returncode == 2 and "--transcripts" in p.stderr, p.stderr


if __name__ == "__main__":
    main([test_run_completes, test_transcript_taken_with_speakers,
          test_every_planted_finding_reported, test_scores_per_speaker,
          test_control_has_no_findings, test_broken_transcript_fails_only_that_file,
          test_analyze_with_transcript,
          test_missing_transcripts_folder_is_usage_error])
