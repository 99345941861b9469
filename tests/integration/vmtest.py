"""Shared helpers for voiceman's integration tests.

Each test script is run by CTest as `python3 test_x.py VOICEMAN FIXTURES`.
Tests are plain functions named test_*; `main()` runs them in order, prints
one line each and exits 1 on the first failure (77 when all skipped)."""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import traceback

VOICEMAN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "voiceman"
FIXTURES = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else "build/fixtures"


class Skip(Exception):
    pass


def run(*args, check=None, timeout=300, env=None, **kw):
    """Runs voiceman with args; returns CompletedProcess (text)."""
    p = subprocess.run([VOICEMAN, *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, env=env, **kw)
    if check is not None and p.returncode != check:
        raise AssertionError(f"voiceman {' '.join(map(str, args))} exited {p.returncode}, "
                             f"expected {check}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def tmpdir(prefix="vmit-"):
    d = tempfile.mkdtemp(prefix=prefix)
    return d


def sha256_file(path):
    """SHA-256 by the sha256sum program, an independent implementation."""
    out = subprocess.run(["sha256sum", "--", path], capture_output=True, text=True, check=True)
    return out.stdout.split()[0]


def ffprobe_duration(path):
    """(duration, start_time) of the recording as ffprobe reports them.
    For MP3 the duration includes the encoder delay that start_time names
    (LAME's priming samples, which a gapless decoder drops). Where ffprobe
    only estimates the duration from the bit rate (it says so; AMR is one
    case), the end of the last packet, which ffprobe also reports, is used."""
    out = subprocess.run(["ffprobe", "-v", "warning", "-show_entries",
                          "format=duration,start_time", "-of", "json", "-i", path],
                         capture_output=True, text=True, check=True)
    fmt = json.loads(out.stdout)["format"]
    start = max(float(fmt.get("start_time", 0) or 0), 0.0)
    if "Estimating duration from bitrate" not in out.stderr:
        return float(fmt["duration"]), start
    pk = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                         "packet=pts_time,duration_time", "-of", "csv=p=0", "-i", path],
                        capture_output=True, text=True, check=True)
    end = 0.0
    for line in pk.stdout.split():
        pts, dur = (float(x) for x in line.split(",")[:2])
        end = max(end, pts + dur)
    return end - start, start


def random_model(work, seed):
    """A random-weight Whisper model in the real file format (tiny dims, f16,
    the real multilingual vocabulary) written by vm_make_model into work;
    returns its path. vm_make_model comes from $VM_MAKE_MODEL (set by CMake)
    or the build folder next to voiceman; Skip when it is not built."""
    tool = os.environ.get("VM_MAKE_MODEL") or os.path.join(
        os.path.dirname(VOICEMAN), "src", "asr", "tools", "vm_make_model")
    if not os.path.exists(tool):
        raise Skip("vm_make_model not built")
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    vocab = os.path.join(src, "tests", "fixtures", "whisper", "multilingual.tiktoken")
    model = os.path.join(work, "tiny-random.bin")
    subprocess.run([tool, model, "--state", "64", "--heads", "2", "--audio-layers", "2",
                    "--text-layers", "2", "--type", "f16", "--seed", str(seed), "--vocab",
                    vocab], check=True, capture_output=True)
    return model


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def db(out):
    con = sqlite3.connect(f"file:{os.path.join(out, 'voiceman.db')}?mode=ro", uri=True)
    return con


def temp_leftovers(root):
    found = []
    for d, _, files in os.walk(root):
        found += [os.path.join(d, f) for f in files if f.startswith(".vmtmp.")]
    return found


def copy_tree(src, dst):
    shutil.copytree(src, dst)
    return dst


def main(tests):
    failed = skipped = 0
    for t in tests:
        try:
            t()
            print(f"ok   {t.__name__}", flush=True)
        except Skip as e:
            skipped += 1
            print(f"skip {t.__name__}: {e}", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__}", flush=True)
            traceback.print_exc()
            break
    if failed:
        sys.exit(1)
    sys.exit(77 if skipped == len(tests) else 0)
