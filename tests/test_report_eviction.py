"""The folder of rendered PDFs is a cache that shrinks (report/cache.py): PDFs not read for
REPORT_CACHE_DAYS go, and the least recently read go once it holds more than REPORT_CACHE_MB;
the folder is the service account's alone."""

from __future__ import annotations

import os
import time

from assessment.report import ReportCache

DAY = 86400


def put(cache: ReportCache, name: str, size: int, read_days_ago: float) -> str:
    key = (name * 64)[:64]
    path = cache.path(key)
    path.write_bytes(b"%PDF" + b"x" * (size - 4))
    moment = time.time() - read_days_ago * DAY
    os.utime(path, (moment, moment))
    return key


def test_pdfs_not_read_for_the_set_days_are_removed(tmp_path):
    cache = ReportCache(tmp_path / "reports", max_mb=100, max_days=30)
    old = put(cache, "a", 1000, read_days_ago=31)
    recent = put(cache, "b", 1000, read_days_ago=2)
    assert cache.evict() == [old]
    assert cache.get(old) is None and cache.get(recent) is not None


def test_the_least_recently_read_go_first_when_the_folder_is_full(tmp_path):
    cache = ReportCache(tmp_path / "reports", max_mb=0.01, max_days=30)  # about 10 KB
    oldest = put(cache, "a", 4000, read_days_ago=5)
    middle = put(cache, "b", 4000, read_days_ago=4)
    put(cache, "c", 4000, read_days_ago=3)  # read more recently than middle: kept
    cache.get(oldest)  # reading it makes it the most recently read
    removed = cache.evict(now=time.time() + 120)
    assert removed == [middle]  # 12 KB to 8 KB: under nine tenths of the limit
    assert cache.get(oldest) is not None


def test_a_pdf_just_written_or_read_is_never_evicted(tmp_path):
    cache = ReportCache(tmp_path / "reports", max_mb=0.001, max_days=0)
    key = put(cache, "d", 5000, read_days_ago=0)
    assert cache.evict() == []
    assert cache.get(key) is not None


def test_leftover_temporary_files_are_removed_and_the_folder_is_owner_only(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir(mode=0o755)
    cache = ReportCache(folder)
    assert folder.stat().st_mode & 0o777 == 0o700
    leftover = folder / ".tmp-abc.pdf"
    leftover.write_bytes(b"half a pdf")
    hour_ago = time.time() - 7200
    os.utime(leftover, (hour_ago, hour_ago))
    cache.evict()
    assert not leftover.exists()
