#!/usr/bin/python3
"""The HTML reports in a real browser.

    test_report_browser.py REPORT_RENDER FIXTURE_DIR ARTIFACT_DIR

REPORT_RENDER (tests/integration/report_render.c) renders the sample results
of tests/fixtures/report/ and the index into ARTIFACT_DIR, with --pdf. Then
headless Chromium, driven over the DevTools protocol (a small WebSocket
client below, standard library only), opens each page from its file:// URL
and the test checks:
  - no console error, no uncaught exception, no dialog (an alert() would
    mean injected script ran), no request other than file:/data: URLs;
  - the key elements (risk badge, time line, findings table, plots) are
    present and visible, and texts with <script>, quotes and & render as
    text;
  - a finding's time link moves to its transcript line;
  - the index lists every file, failures with reasons, and sorts by a
    column on click;
  - the PDFs start with %PDF.
Full-page screenshots (<page>.png) stay in ARTIFACT_DIR. Exit 77 when
chromium is not installed.
"""
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import urllib.request

RENDER, FIXTURES, ARTIFACTS = (os.path.abspath(a) for a in sys.argv[1:4])
PAGES = ["full_ko", "hostile", "nulls", "real_no_language", "real_language"]


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text frames,
    client-side masking, fragmented and large server messages."""

    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = bytearray()
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        end = self.buf.index(b"\r\n\r\n")
        status = bytes(self.buf[:end]).split(b"\r\n")[0]
        del self.buf[:end + 4]
        if b" 101 " not in status:
            raise RuntimeError(f"WebSocket upgrade refused: {status!r}")

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("DevTools connection closed")
        self.buf += chunk

    def _read(self, n):
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def _frame(self, opcode, data):
        head = bytearray([0x80 | opcode])
        n = len(data)
        if n < 126:
            head.append(0x80 | n)
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i & 3] for i, b in enumerate(data))
        self.sock.sendall(bytes(head) + mask + body)

    def send(self, text):
        self._frame(0x1, text.encode())

    def recv(self):
        message = bytearray()
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise EOFError("DevTools connection closed")
            if opcode == 0x9:
                self._frame(0xA, payload)
                continue
            if opcode in (0x0, 0x1, 0x2):
                message += payload
                if b0 & 0x80:
                    return message.decode()


class DevTools:
    """One page target: commands by id, events kept in self.events."""

    def __init__(self, ws):
        self.ws, self.next_id, self.events = ws, 0, []

    def call(self, method, timeout=30, **params):
        self.next_id += 1
        my = self.next_id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        end = time.time() + timeout
        while time.time() < end:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(method)

    def wait_event(self, name, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            for e in self.events:
                if e["method"] == name:
                    return e
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(f"no {name} within {timeout} s")

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluate failed: {r['exceptionDetails']}")
        return r["result"].get("value")


def start_chromium(exe, profile):
    args = [exe, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-sync", "--disable-background-networking",
            "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1200,900",
            "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"]
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium refuses to run as root otherwise
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    port_file = os.path.join(profile, "DevToolsActivePort")
    end = time.time() + 30
    while time.time() < end:
        if os.path.exists(port_file):
            lines = open(port_file).read().split("\n")
            if len(lines) >= 2 and lines[0].strip():
                return proc, int(lines[0])
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode}")
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")


def page_target(port):
    end = time.time() + 10
    while time.time() < end:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
            for t in json.load(r):
                if t.get("type") == "page":
                    return t["webSocketDebuggerUrl"]
        time.sleep(0.1)
    raise RuntimeError("no page target")


def problems(events):
    """Console errors, exceptions, dialogs and non-local requests seen."""
    out = []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            out.append(f"exception: {p['exceptionDetails'].get('text')}")
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            out.append(f"console {p['type']}: {[a.get('value') for a in p.get('args', [])]}")
        elif m == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
            out.append(f"log {p['entry']['level']}: {p['entry'].get('text')}")
        elif m == "Page.javascriptDialogOpening":
            out.append(f"dialog opened: {p.get('message')}")
        elif m == "Network.requestWillBeSent":
            url = p["request"]["url"]
            if not (url.startswith("file:") or url.startswith("data:")):
                out.append(f"network request: {url}")
    return out


def open_page(dt, name, fragment=""):
    dt.events.clear()
    url = "file://" + urllib.parse.quote(os.path.join(ARTIFACTS, name)) + fragment
    dt.call("Page.navigate", url=url)
    dt.wait_event("Page.loadEventFired")
    dt.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))")
    bad = problems(dt.events)
    assert not bad, f"{name}: {bad}"


def screenshot(dt, name):
    m = dt.call("Page.getLayoutMetrics")
    size = m.get("cssContentSize") or m["contentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16000), "scale": 1}
    shot = dt.call("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)
    data = base64.b64decode(shot["data"])
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "screenshot is not a PNG"
    with open(os.path.join(ARTIFACTS, name + ".png"), "wb") as f:
        f.write(data)


VISIBLE = """(sel => { const e = document.querySelector(sel); if (!e) return 'missing';
  const r = e.getBoundingClientRect(), s = getComputedStyle(e);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'
    ? 'visible' : 'hidden'; })"""


def check_report(dt, name):
    open_page(dt, name + ".html")
    for sel in ("#risk-badge", "#timeline", "#findings-table", "#summary", "#transcript",
                "#integrity", "#categories"):
        assert dt.evaluate(f"{VISIBLE}('{sel}')") == "visible", f"{name}: {sel} not visible"
    info = dt.evaluate("""({scripts: document.scripts.length, title: document.title,
      text: document.body.innerText, badge: document.getElementById('risk-badge').textContent,
      rows: document.querySelectorAll('#findings-table tbody tr').length,
      dangling: [...document.querySelectorAll('a[href^="#seg-"]')]
        .filter(a => !document.getElementById(a.getAttribute('href').slice(1))).length,
      frames: document.querySelectorAll('iframe, img, object, embed').length})""")
    assert info["scripts"] == 0, f"{name}: the report has a script"
    assert info["frames"] == 0, f"{name}: injected elements"
    assert info["dangling"] == 0, f"{name}: links without a transcript line"
    screenshot(dt, name)
    return info


def test_render_and_pdf():
    if os.path.isdir(ARTIFACTS):
        shutil.rmtree(ARTIFACTS)
    os.makedirs(ARTIFACTS)
    args = [RENDER, "--pdf", "-o", ARTIFACTS, "--summary", os.path.join(FIXTURES, "summary.json")]
    args += [os.path.join(FIXTURES, p + ".json") for p in PAGES]
    p = subprocess.run(args, capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, f"report_render failed: {p.stderr}"
    for name in PAGES:
        with open(os.path.join(ARTIFACTS, name + ".pdf"), "rb") as f:
            data = f.read()
        assert data.startswith(b"%PDF"), f"{name}.pdf is not a PDF: {data[:8]!r}"
        # A4 pages: 595 x 842 pt (Chromium writes the page boxes uncompressed)
        assert b"/MediaBox [0 0 594.9" in data, f"{name}.pdf: pages are not A4"


def test_full_report(dt):
    info = check_report(dt, "full_ko")
    assert info["badge"] == "높음", info["badge"]
    assert info["rows"] == 12, info["rows"]
    for sel in ("#timeline-svg", "#f0-plot", "#intensity-plot", "#speakers-table"):
        assert dt.evaluate(f"{VISIBLE}('{sel}')") == "visible", f"{sel} not visible"
    for text in ("음성 포렌식 분석 보고서", "요약 (Executive Summary)", "범주별 분석", "가스라이팅 분석",
                 "위협 평가", "기만 분석", "대화 기록", "장기적 관점", "만약 경찰에 말하면"):
        assert text in info["text"], f"missing text {text}"
    # a finding's time link scrolls to its transcript line
    moved = dt.evaluate("""(() => { const a = document.querySelector('#findings-table a[href="#seg-9"]');
      a.click(); const t = document.querySelector(':target'); if (!t) return null;
      const r = t.getBoundingClientRect();
      return {id: t.id, top: r.top, h: innerHeight, text: t.innerText}; })()""")
    assert moved and moved["id"] == "seg-9", moved
    assert 0 <= moved["top"] < moved["h"], f"target line not in view: {moved}"
    assert "경찰" in moved["text"], moved


def test_hostile_report(dt):
    info = check_report(dt, "hostile")
    assert info["title"].startswith("음성 포렌식 분석 보고서 — <script>alert(1)</script>"), info["title"]
    for text in ("<script>alert(1)</script> 안녕 \"따옴표\" & 'apos' <img src=x onerror=alert(2)>",
                 "</div></section><script>alert(3)</script>", "O'Brien <i>", "<b>김\"철수\"</b> & Co",
                 "요약 </p><script>alert(4)</script> & \"끝\""):
        assert text in info["text"], f"not shown as text: {text}"


def test_missing_data_reports(dt):
    for name in ("nulls", "real_no_language"):
        info = check_report(dt, name)
        assert info["badge"] == "평가 없음", info["badge"]
        assert "언어 분석 결과 없음" in info["text"]


def test_real_language_report(dt):
    info = check_report(dt, "real_language")
    assert info["badge"] == "최소", info["badge"]
    assert info["rows"] == 2, info["rows"]
    assert "만약 경찰에 말하면" in info["text"]


def test_index(dt):
    open_page(dt, "index.html")
    assert dt.evaluate(f"{VISIBLE}('#files-table')") == "visible"
    info = dt.evaluate("""({rows: document.querySelectorAll('#files-table tbody tr').length,
      failed: document.querySelectorAll('#files-table tr.row-failed').length,
      text: document.body.innerText})""")
    assert info["rows"] == 5 and info["failed"] == 2, info
    assert "cannot read: <script>alert(10)</script> & \"quoted\"" in info["text"]
    assert "corrupt or truncated audio" in info["text"]
    screenshot(dt, "index")
    # click "점수" (score): ascending, then descending
    order = """(() => { const th = [...document.querySelectorAll('#files-table th')]
        .find(h => h.textContent === '점수'); th.click();
      return [...document.querySelectorAll('#files-table tbody tr')]
        .map(r => parseFloat(r.cells[th.cellIndex].dataset.sort)); })()"""
    up = dt.evaluate(order)
    assert up == sorted(up) and up[0] < up[-1], up
    down = dt.evaluate(order)
    assert down == sorted(down, reverse=True), down
    assert not problems(dt.events), problems(dt.events)
    # the report links of the index open
    href = dt.evaluate("document.querySelector('#files-table a').getAttribute('href')")
    assert os.path.exists(os.path.join(ARTIFACTS, urllib.parse.unquote(href))), href


def main():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        print("skip: chromium is not installed (Debian package chromium)")
        sys.exit(77)
    t0 = time.time()
    profile = tempfile.mkdtemp(prefix="vm-browser-")
    proc = None
    failed = False
    try:
        test_render_and_pdf()
        print("ok   test_render_and_pdf", flush=True)
        proc, port = start_chromium(exe, profile)
        dt = DevTools(WebSocket(page_target(port)))
        for domain in ("Page", "Runtime", "Log", "Network"):
            dt.call(f"{domain}.enable")
        for t in (test_full_report, test_hostile_report, test_missing_data_reports,
                  test_real_language_report, test_index):
            t(dt)
            print(f"ok   {t.__name__}", flush=True)
    except Exception:
        failed = True
        print("FAIL", flush=True)
        traceback.print_exc()
    finally:
        if proc:
            try:
                os.killpg(proc.pid, 9)
            except ProcessLookupError:
                pass
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    print(f"{time.time() - t0:.1f} s; artefacts in {ARTIFACTS}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
