#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""card-stress's HTML report as a browser shows it: a 2.5-second mixed run
against a real card-server on a throwaway PostgreSQL writes the report, and
headless Chromium (Debian's `chromium`, scripts/install-deps.sh) renders it.

Parsing the file as XML (stress_outputs_test.py) proves it is well-formed, not
that a browser draws it: here the DOM Chromium built is checked (each chart an
<svg> with lines or bars that have points, a title and axis labels; the
histogram a count axis and at least four latency ticks; at least 20 points per
line for a 2.5 s run), and a screenshot must not be blank.

Usage: html_render_test.py --stress=PATH/card-stress --server=PATH/card-server --source=REPO_ROOT
"""
import html.parser
import os
import shutil
import struct
import subprocess
import sys
import unittest
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import card_fixture  # noqa: E402

ARGS = None


def chromium(*flags):
    """Headless Chromium; root needs --no-sandbox (there is no user namespace)."""
    exe = shutil.which("chromium")
    if exe is None:
        raise unittest.SkipTest("chromium is not installed (scripts/install-deps.sh)")
    return subprocess.run([exe, "--headless", "--disable-gpu", "--no-sandbox",
                           "--hide-scrollbars", *flags],
                          capture_output=True, text=True, timeout=120)


class Dom(html.parser.HTMLParser):
    """The serialized DOM as a tree of dicts: tag, attrs, children, text."""

    def __init__(self):
        super().__init__()
        self.root = {"tag": "#root", "attrs": {}, "children": [], "text": ""}
        self.stack = [self.root]

    VOID = {"meta", "br", "link", "img", "input", "hr"}

    def handle_starttag(self, tag, attrs):
        node = {"tag": tag, "attrs": dict(attrs), "children": [], "text": ""}
        self.stack[-1]["children"].append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1]["children"].append(
            {"tag": tag, "attrs": dict(attrs), "children": [], "text": ""})

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i]["tag"] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1]["text"] += data


def walk(node):
    yield node
    for child in node["children"]:
        yield from walk(child)


def text_of(node):
    return node["text"] + "".join(text_of(c) for c in node["children"])


def png_pixels(path):
    """(width, height, rows of RGBA bytes) of an 8-bit RGB(A) PNG, as Chromium writes."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 4 if color == 6 else 3
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


class HtmlRenderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = card_fixture.Cluster("html-render", pg_port=card_fixture.free_port())
        cls.cluster.start_server(ARGS.server, "--db_pool_size=4")
        cls.report = os.path.join(cls.cluster.work, "report.html")
        # 2.5 s at a steady 200/s: the series gets 100 ms intervals (stats.h).
        run = subprocess.run(
            [ARGS.stress, f"--target={cls.cluster.targets[0]}", "--progress=false",
             "--scenario=mixed", "--users=20", "--concurrency=8", "--rps=200",
             "--duration=2.5s", "--warmup=0.5s", "--verify=false",
             f"--html_output={cls.report}", "--format=text"],
            capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            raise AssertionError(f"card-stress exited {run.returncode}:\n{run.stdout}{run.stderr}")
        dump = chromium("--virtual-time-budget=2000", "--dump-dom", f"file://{cls.report}")
        if dump.returncode != 0 or "<svg" not in dump.stdout:
            raise AssertionError(f"chromium --dump-dom failed ({dump.returncode}):\n{dump.stderr}")
        parser = Dom()
        parser.feed(dump.stdout)
        cls.dom = parser.root
        cls.charts = {n["attrs"].get("id"): n for n in walk(cls.dom) if n["tag"] == "svg"}

    @classmethod
    def tearDownClass(cls):
        cls.cluster.close()

    def test_every_chart_is_in_the_rendered_dom(self):
        self.assertEqual(set(self.charts), {"throughput", "latency", "latency-histogram"})

    def test_line_charts_have_points_labels_and_a_legend(self):
        for chart_id in ("throughput", "latency"):
            chart = self.charts[chart_id]
            lines = [n for n in walk(chart) if n["tag"] == "polyline"]
            self.assertGreaterEqual(len(lines), 2, chart_id)
            for line in lines:
                points = line["attrs"].get("points", "").split()
                # A 2.5 s run: at least 20 points per line (SeriesInterval).
                self.assertGreaterEqual(len(points), 20, (chart_id, text_of(line)))
            classes = [(n["attrs"].get("class"), text_of(n)) for n in walk(chart)]
            labels = [t for c, t in classes if c == "label"]
            self.assertIn("seconds since the start", labels)
            self.assertEqual(len(labels), 2, labels)
            self.assertGreaterEqual(len([t for c, t in classes if c == "tick"]), 6)
            legend = [t for c, t in classes if c == "legend"]
            self.assertEqual(len(legend), len(lines), legend)
            self.assertEqual(len([c for c, _ in classes if c == "swatch"]), len(lines))
            self.assertIn("warm-up", " ".join(t for c, t in classes if c == "warmup-label"))

    def test_the_target_line_is_drawn_last_with_a_dashed_swatch(self):
        chart = self.charts["throughput"]
        lines = [n for n in walk(chart) if n["tag"] == "polyline"]
        self.assertEqual(text_of(lines[-1]).strip(), "target")
        self.assertIn("stroke-dasharray", lines[-1]["attrs"])
        swatches = [n for n in walk(chart) if n["attrs"].get("class") == "swatch"]
        self.assertTrue(any("stroke-dasharray" in s["attrs"] for s in swatches))

    def test_histogram_has_bars_a_count_axis_and_readable_latency_ticks(self):
        chart = self.charts["latency-histogram"]
        bars = [n for n in walk(chart) if n["attrs"].get("class") == "bar"]
        self.assertTrue(bars)
        self.assertTrue(any(float(b["attrs"]["height"]) > 0 for b in bars))
        labels = [text_of(n) for n in walk(chart) if n["attrs"].get("class") == "label"]
        self.assertIn("operations", labels)
        ticks = [text_of(n) for n in walk(chart) if n["attrs"].get("class") == "tick"]
        latency_ticks = [t for t in ticks if t.endswith("ms") or t.endswith(" s")]
        count_ticks = [t for t in ticks if t not in latency_ticks]
        # A fast run's latencies may all fall within one decade (1 to 6 ms):
        # three labelled ticks is the least the finer 1-1.5-2-3-4-5 set gives.
        self.assertGreaterEqual(len(latency_ticks), 3, ticks)
        self.assertGreaterEqual(len(count_ticks), 3, ticks)

    def test_status_codes_do_not_wrap(self):
        cells = [n for n in walk(self.dom) if n["tag"] == "td" and n["attrs"].get("class") == "codes"]
        self.assertTrue(cells)
        for cell in cells:
            spans = [n for n in walk(cell) if n["tag"] == "span"]
            self.assertTrue(spans)
            for span in spans:
                self.assertRegex(text_of(span), r"^[A-Z_]+ \d+$")

    def test_the_screenshot_is_not_blank(self):
        png = os.path.join(self.cluster.work, "report.png")
        shot = chromium("--window-size=800,1400", f"--screenshot={png}", f"file://{self.report}")
        self.assertEqual(shot.returncode, 0, shot.stderr)
        width, height, bpp, rows = png_pixels(png)
        self.assertEqual((width, height), (800, 1400))
        colors = set()
        for row in rows[::7]:
            for x in range(0, len(row), bpp * 5):
                colors.add(row[x:x + 3])
        # A blank or error page has a handful; text, lines and bars give many.
        self.assertGreater(len(colors), 50)
        if os.environ.get("CARD_KEEP_SCREENSHOT"):
            shutil.copy(png, os.environ["CARD_KEEP_SCREENSHOT"])


if __name__ == "__main__":
    ARGS, rest = card_fixture.parse_args("stress", "server", "source")
    card_fixture.run_suite(rest)
