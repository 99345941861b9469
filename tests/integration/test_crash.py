"""Crash safety: kill -9 a run at random moments, rerun each time; in the
end every file is completed exactly once (executions counted in the
store), every output parses, no temporary file remains, and the audit log
verifies. Also: SIGINT stops cleanly with exit 130 and a rerun finishes;
a full disk fails the affected files without corrupting the store."""
import json
import os
import random
import shutil
import signal
import subprocess
import time

from vmtest import (FIXTURES, VOICEMAN, Skip, copy_tree, db, load_json, main, run,
                    temp_leftovers, tmpdir)

MANY = os.path.join(FIXTURES, "many")
GOOD = os.path.join(FIXTURES, "good")


def make_calls(copies=1):
    work = tmpdir()
    calls = os.path.join(work, "calls")
    for i in range(copies):
        copy_tree(MANY, os.path.join(calls, f"many{i}" if i else "many"))
    copy_tree(GOOD, os.path.join(calls, "good"))
    return work, calls


def count_inputs(calls):
    return sum(len(fs) for _, _, fs in os.walk(calls))


def test_kill9_at_random_moments():
    work, calls = make_calls()
    out = os.path.join(work, "out")
    assert count_inputs(calls) >= 20
    rng = random.Random(1234)
    kills = 0
    pool = sorted(os.listdir(MANY))
    extra = os.path.join(calls, "extra")
    os.makedirs(extra)
    for i in range(14):
        # new files arrive between runs, so every run has work to be killed in
        for k in range(3):
            src = pool[(3 * i + k) % len(pool)]
            shutil.copy(os.path.join(MANY, src), os.path.join(extra, f"x{i:02d}_{k}_{src}"))
        p = subprocess.Popen([VOICEMAN, "run", calls, "-o", out, "--workers", "1",
                              "--batch-size", "3", "-q"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.01, 0.12))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
    n = count_inputs(calls)
    assert kills >= 10, f"only {kills} of 14 kills landed inside a run"
    p = run("run", calls, "-o", out, "--workers", "2", "-q")
    assert p.returncode == 0, p.stderr
    con = db(out)
    rows = con.execute("SELECT f.path, f.state, COUNT(e.id) FROM files f LEFT JOIN executions e "
                       "ON e.file_id = f.id GROUP BY f.id").fetchall()
    assert len(rows) == n, (len(rows), n)
    bad = [(p_, s, c) for p_, s, c in rows if s != "completed" or c != 1]
    assert not bad, f"files not completed exactly once: {bad}"
    s = load_json(os.path.join(out, "summary.json"))
    assert all(f["status"] in ("completed", "skipped") for f in s["files"]), s["files"]
    for d, _, files in os.walk(out):
        for f in files:
            if f.endswith(".json"):
                load_json(os.path.join(d, f))
    assert temp_leftovers(out) == []
    p = run("verify", out, check=0)
    assert "chain intact" in p.stdout, p.stdout


def test_sigint_stops_cleanly():
    work, calls = make_calls(copies=5)
    out = os.path.join(work, "out")
    p = subprocess.Popen([VOICEMAN, "run", calls, "-o", out, "--workers", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.15)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    if p.returncode == 0:
        raise Skip("the run finished before the interrupt arrived")
    assert p.returncode == 130, (p.returncode, err)
    assert "interrupted" in err, err
    con = db(out)
    st = dict(con.execute("SELECT state, COUNT(*) FROM files GROUP BY state").fetchall())
    assert "in_progress" not in st, st
    s = load_json(os.path.join(out, "summary.json"))
    assert s["run"]["status"] == "interrupted"
    assert temp_leftovers(out) == []
    p = run("run", calls, "-o", out, "-q", check=0)
    con = db(out)
    st = dict(con.execute("SELECT state, COUNT(*) FROM files GROUP BY state").fetchall())
    assert st == {"completed": count_inputs(calls)}, st


def test_second_sigint_quits_at_once_and_loses_nothing():
    work, calls = make_calls(copies=5)
    out = os.path.join(work, "out")
    p = subprocess.Popen([VOICEMAN, "run", calls, "-o", out, "--workers", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.15)
    p.send_signal(signal.SIGINT)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    if p.returncode == 0:
        raise Skip("the run finished before the interrupt arrived")
    assert p.returncode == 130, (p.returncode, err)
    p = run("run", calls, "-o", out, "-q")
    assert p.returncode == 0, p.stderr
    con = db(out)
    rows = con.execute("SELECT f.state, COUNT(e.id) FROM files f LEFT JOIN executions e "
                       "ON e.file_id = f.id GROUP BY f.id").fetchall()
    assert all(st == "completed" and n == 1 for st, n in rows), rows
    assert temp_leftovers(out) == []


def test_full_disk_fails_files_not_store():
    work, calls = make_calls()
    out = os.path.join(work, "small")
    os.makedirs(out)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", out],
                      capture_output=True).returncode != 0:
        raise Skip("cannot mount a small tmpfs here (needs root)")
    try:
        store = os.path.join(work, "store.db")  # the store itself has room
        # fill the small disk almost completely
        with open(os.path.join(out, "filler"), "wb") as f:
            try:
                f.write(b"\0" * (150 * 1024))
            except OSError:
                pass
        p = run("run", calls, "-o", out, "--store", store, "-q")
        assert p.returncode in (1, 2), (p.returncode, p.stderr)
        assert "No space left" in p.stderr or "no space" in p.stderr.lower(), p.stderr
        assert temp_leftovers(out) == []
        con = __import__("sqlite3").connect(store)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        st = dict(con.execute("SELECT state, COUNT(*) FROM files GROUP BY state").fetchall())
        assert "in_progress" not in st and st.get("failed", 0) > 0, st
        errs = [r[0] for r in con.execute("SELECT last_error FROM files WHERE state='failed'")]
        assert all("space" in (e or "").lower() for e in errs), errs
        con.close()
        # make room: the next run completes what failed
        os.unlink(os.path.join(out, "filler"))
        subprocess.run(["umount", out], check=True)
        p = run("run", calls, "-o", out, "--store", store, "-q")
        assert p.returncode == 0, p.stderr
    finally:
        subprocess.run(["umount", out], capture_output=True)


def test_readonly_output_folder_fails_files():
    """Outputs that cannot be written fail their files with the reason; the
    store stays consistent and the next run (folder writable again) finishes."""
    work, calls = make_calls()
    out = os.path.join(work, "out")
    files_dir = os.path.join(out, "files")
    os.makedirs(files_dir)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", files_dir],
                      capture_output=True).returncode != 0:
        raise Skip("cannot mount a read-only tmpfs here (needs root)")
    try:
        p = run("run", calls, "-o", out, "-q")
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert "Read-only file system" in p.stderr, p.stderr
        s = load_json(os.path.join(out, "summary.json"))
        assert s["totals"]["failed"] == count_inputs(calls), s["totals"]
        assert all("Read-only" in f["error"] for f in s["files"]), s["files"][0]
        con = db(out)
        st = dict(con.execute("SELECT state, COUNT(*) FROM files GROUP BY state").fetchall())
        assert st == {"failed": count_inputs(calls)}, st
    finally:
        subprocess.run(["umount", files_dir], capture_output=True)
    p = run("run", calls, "-o", out, "-q")
    assert p.returncode == 0, p.stderr
    assert temp_leftovers(out) == []


if __name__ == "__main__":
    main([test_kill9_at_random_moments, test_sigint_stops_cleanly,
          test_second_sigint_quits_at_once_and_loses_nothing,
          test_full_disk_fails_files_not_store, test_readonly_output_folder_fails_files])
