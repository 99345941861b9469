"""`voiceman run --model` and the GPU options, on simulated GPUs.

The transcription stage's device logic (docs/gpu.md) runs here without a
GPU: VM_DEVICE_SIM gives the pipeline simulated GPUs whose engine is the
CPU one, with out-of-memory and broken contexts injected at chosen device
allocations and context creation failing a given number of times. The
model is a random-weight tiny model written by vm_make_model (real
vocabulary). Checked: an unfaulted CPU run and a faulted two-GPU run give
the same transcripts; GPU readings reach summary.json, the store and
`voiceman status`; --device cuda without a GPU is a set-up error that
writes nothing; --device auto falls back to the CPU when no GPU comes up;
--no-model-resident gives the same transcripts; bad device options are
usage errors."""
import json
import os
import shutil
import subprocess

from vmtest import FIXTURES, Skip, db, load_json, main, random_model, run, tmpdir

GOOD = os.path.join(FIXTURES, "good")
FILES = ("ko1.m4a", "split_stereo.wav", "silent.m4a", "long.wav")
state = {}


def vm(*args, sim=None, check=None):
    env = dict(os.environ)
    env.pop("VM_DEVICE_SIM", None)
    if sim:
        env["VM_DEVICE_SIM"] = sim
    return run(*args, check=check, env=env)


def run_model(out, *extra, sim=None, check=0):
    # 4 workers: two analysis workers, so rounds can hold two files' chunks
    return vm("run", state["calls"], "-o", out, "--model", state["model"], "--language", "ko",
              "--beam-size", "1", "--threads", "2", "-w", "4", "-q", "--no-html", *extra,
              sim=sim, check=check)


def transcripts(out):
    got = {}
    for name in FILES:
        r = load_json(os.path.join(out, "files", "calls", name + ".json"))
        tr = r["transcript"]
        got[name] = None if tr is None else [
            (round(s["start"], 3), round(s["end"], 3), s["text"]) for s in tr["segments"]]
    return got


def gpu_of(out):
    s = load_json(os.path.join(out, "summary.json"))
    gs = [b["gpu"] for b in s["batches"]]
    assert all(g is not None for g in gs), gs
    return gs[-1]


def setup():
    work = tmpdir("vmit-dev-")
    model = random_model(work, 7)
    calls = os.path.join(work, "calls")
    os.makedirs(calls)
    for f in FILES[:-1]:
        shutil.copy(os.path.join(GOOD, f), calls)
    # about 50 s of speech: two chunks or more in one file
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-stream_loop", "12", "-i",
                    os.path.join(GOOD, "ko1.m4a"), "-t", "50", "-ac", "1", "-ar", "16000",
                    os.path.join(calls, "long.wav")], check=True)
    state.update(work=work, model=model, calls=calls)


def test_cpu_baseline():
    setup()
    out = os.path.join(state["work"], "cpu")
    run_model(out, "--device", "cpu")
    state["base"] = transcripts(out)
    assert any(state["base"][n] for n in FILES), state["base"]
    g = gpu_of(out)
    assert g["backend"] == "cpu" and g["cpu_reason"] == "--device cpu", g
    assert g["gpus"] == [] and g["chunks"] > 0 and g["cpu_chunks"] == g["chunks"], g


def test_faulted_gpus_same_transcripts():
    # device allocations 1 and 2 are the two engines' models (made one after
    # the other at start-up), later ones batches, from either GPU: the 3rd
    # runs out of memory, the 4th finds a broken context (that engine is
    # re-created: allocation 5, and the batch redone). The first context
    # creation fails (retried).
    out = os.path.join(state["work"], "sim")
    run_model(out, "--device", "cuda", "--max-micro-batch", "4",
              sim="devices=2,mem_mb=4096,oom=3,gpu_error=4,init_failures=1")
    assert transcripts(out) == state["base"]
    g = gpu_of(out)
    assert g["backend"] == "cuda" and g["source"] == "sim", g
    assert len(g["gpus"]) == 2, g
    assert g["oom_halvings"] == 1, g
    assert sum(x["restarts"] for x in g["gpus"]) == 1, g
    # a chunk that meets an injected out-of-memory alone fails its file's
    # attempt (the rule); the pipeline's retry redoes that file
    assert sum(x["chunks"] for x in g["gpus"]) + g["failed_chunks"] == g["chunks"], g
    assert g["cpu_chunks"] == 0 and g["gpus_lost"] == 0, g
    s = load_json(os.path.join(out, "summary.json"))
    assert all(f["status"] == "completed" for f in s["files"]), s["files"]
    for x in g["gpus"]:
        assert x["name"].startswith("simulated GPU") and x["total_mb"] == 4096, x
        assert 1 <= x["capacity"] <= 4 and x["max_micro_batch"] <= x["capacity"], x
        assert x["engine_mb"] > 0 and not x["lost"], x
    state["sim_out"] = out


def test_readings_in_store_and_status():
    out = state["sim_out"]
    con = db(out)
    rows = [json.loads(r[0]) for r in con.execute("SELECT gpu_json FROM batches")]
    con.close()
    assert rows and all(r["backend"] == "cuda" for r in rows), rows
    p = vm("status", out, check=0)
    assert "GPU 0" in p.stdout and "simulated GPU" in p.stdout, p.stdout


def test_lost_gpu_goes_to_cpu_with_auto():
    # every context breaks and every re-creation fails: chunks go to the CPU
    out = os.path.join(state["work"], "lost")
    run_model(out, "--device", "auto", "--init-retries", "0", "--devices", "1",
              sim="devices=2,mem_mb=4096,gpu_error=2+3+4+5+6+7+8+9+10+11+12")
    assert transcripts(out) == state["base"]
    g = gpu_of(out)
    assert [x["index"] for x in g["gpus"]] == [1], g
    assert g["gpus"][0]["lost"] and g["cpu_chunks"] == g["chunks"] > 0, g
    assert "fallback" in g["cpu_reason"], g


def test_no_gpu_comes_up():
    sim = "devices=1,mem_mb=4096,init_failures=5"
    out = os.path.join(state["work"], "nostart")
    p = run_model(out, "--device", "cuda", "--init-retries", "1", sim=sim, check=2)
    assert "--device cuda" in p.stderr and "2 attempt" in p.stderr, p.stderr
    assert not os.path.exists(out), os.listdir(out)
    out = os.path.join(state["work"], "fallback")
    run_model(out, "--device", "auto", "--init-retries", "1", sim=sim)
    g = gpu_of(out)
    assert g["backend"] == "cpu" and "no GPU came up" in g["cpu_reason"], g
    assert transcripts(out) == state["base"]


def test_not_resident_same_transcripts():
    out = os.path.join(state["work"], "notres")
    run_model(out, "--device", "cuda", "--no-model-resident", sim="devices=1,mem_mb=4096")
    assert transcripts(out) == state["base"]
    g = gpu_of(out)
    assert g["gpus"][0]["engine_mb"] == 0, g  # freed after each round


def test_real_devices_here():
    # this machine's real GPUs: none in CI, so cuda is a set-up error
    smi = shutil.which("nvidia-smi")
    if smi and subprocess.run([smi, "-L"], capture_output=True).returncode == 0:
        raise Skip("a GPU is present: tools/gpu-check.sh covers it")
    out = os.path.join(state["work"], "real")
    p = run_model(out, "--device", "cuda", check=2)
    assert "--device cuda" in p.stderr and not os.path.exists(out), p.stderr


def test_bad_options():
    out = os.path.join(state["work"], "bad")
    for args in (["--device", "tpu"], ["--devices", "0,x"], ["--devices", "1,1"],
                 ["--gpu-mem-fraction", "0"], ["--max-micro-batch", "0"],
                 ["--init-retries", "-1"]):
        p = run_model(out, *args, check=2)
        assert args[0] in p.stderr, (args, p.stderr)
    p = run_model(out, "--device", "cuda", "--devices", "5", sim="devices=2", check=2)
    assert "--devices" in p.stderr and "GPU 5" in p.stderr, p.stderr
    p = run_model(out, "--device", "cuda", sim="devices=2,bogus=1", check=2)
    assert "VM_DEVICE_SIM" in p.stderr, p.stderr
    assert not os.path.exists(out)


if __name__ == "__main__":
    main([test_cpu_baseline, test_faulted_gpus_same_transcripts, test_readings_in_store_and_status,
          test_lost_gpu_goes_to_cpu_with_auto, test_no_gpu_comes_up,
          test_not_resident_same_transcripts, test_real_devices_here, test_bad_options])
