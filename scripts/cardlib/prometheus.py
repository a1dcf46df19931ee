# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""Prometheus's text exposition format, as card-server's /metrics serves it."""
import math
import re
import urllib.request


def scrape(url, prefix=""):
    """The lines of `url` that start with `prefix`, one string."""
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    return "".join(line + "\n" for line in text.splitlines() if line.startswith(prefix))


class Histogram:
    """One unlabelled histogram family NAME in a scrape: cumulative bucket counts
    by upper bound, the sum and the count."""

    def __init__(self, text, name):
        self.buckets, self.total, self.count = {}, 0.0, 0.0
        for line in text.splitlines():
            m = re.match(name + r'_bucket\{.*le="([^"]+)".*\} (\S+)', line)
            if m:
                self.buckets[float(m.group(1))] = float(m.group(2))
            m = re.match(name + r'_sum(?:\{.*\})? (\S+)', line)
            if m:
                self.total = float(m.group(1))
            m = re.match(name + r'_count(?:\{.*\})? (\S+)', line)
            if m:
                self.count = float(m.group(1))


def _bound(value):
    return "inf" if value == math.inf else "%g" % value


def histogram_delta_summary(before, after, name):
    """What NAME observed between two scrapes: "turns=N creates/turn mean=M
    p50<=B p90<=B p99<=B" (quantiles as bucket upper bounds), or "no turns"."""
    b0, b1 = Histogram(before, name), Histogram(after, name)
    turns = b1.count - b0.count
    if turns <= 0:
        return "no turns"

    def quantile(q):
        for le in sorted(b1.buckets):
            if b1.buckets[le] - b0.buckets.get(le, 0) >= q * turns:
                return le
        return math.inf

    return "turns=%d creates/turn mean=%.1f p50<=%s p90<=%s p99<=%s" % (
        turns, (b1.total - b0.total) / turns, _bound(quantile(.5)), _bound(quantile(.9)),
        _bound(quantile(.99)))
